"""The two floors the intake endpoint is compared with, in the same server and run.

* floor 1: a trivial JSON view through the full middleware stack (no DRF, no database);
* floor 2: the smallest honest DRF create in this app: the same bearer-token
  authentication, permission and default throttle as the API, a small serializer, then one
  transaction with one INSERT into a small table (an ``OutboxMessage`` parked as
  ``discarded``, so no sweeper ever touches it) and one hash-chained audit event.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import trail as audit
from outbox.models import OutboxMessage, OutboxStatus


def ping(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


class FloorCreateSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutboxMessage
        fields = ["id", "topic", "payload", "created_at"]
        read_only_fields = ["id", "created_at"]


class FloorCreateView(APIView):
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = FloorCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            row = serializer.save(status=OutboxStatus.DISCARDED)
            audit.record("bench.floor_created", actor=request.user, obj=row, data={"topic": row.topic},
                         ip_address=request.META.get("REMOTE_ADDR"))
        return Response(serializer.data, status=status.HTTP_201_CREATED)
