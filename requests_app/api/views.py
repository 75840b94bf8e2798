"""REST API v1 views: authenticate, scope, call a service, serialize. No business rules."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.client_ip import client_ip as _client_ip
from audit import trail as audit

from .. import annex_iii_pdf
from ..access import get_visible_request, visible_requests
from ..models import AnnexIII, LegalRequest, Target
from ..services.attachments import attachment_add, attachment_find, attachment_open
from ..services.delivery import released_package, response_file_read
from ..services.errors import ServiceError
from ..services.review import message_from_authority
from ..services.submission import clarification_submit, request_submit, request_withdraw
from ..services.validation import request_check
from .filters import RequestFilter
from .pagination import NewestFirstCursorPagination
from .serializers import (
    AttachmentSerializer,
    AttachmentUploadSerializer,
    ClarificationSerializer,
    DecisionSerializer,
    MessageCreateSerializer,
    MessageSerializer,
    RequestCreateSerializer,
    RequestDetailSerializer,
    RequestListSerializer,
    RequestReceiptSerializer,
    ResponsePackageSerializer,
    WithdrawSerializer,
)
from .throttling import AuthorityRateThrottle, AuthoritySubmitThrottle, OneTripThrottling


def client_ip(request: Request) -> str | None:
    return _client_ip(request)


def detail_queryset(user: Any) -> QuerySet[LegalRequest]:
    return visible_requests(user).prefetch_related(
        Prefetch("targets", queryset=Target.objects.order_by("id")), "attachments", "messages",
        Prefetch("annex_iii", queryset=AnnexIII.objects.filter(sent_at__isnull=False).select_related("request")),
    )


def _lookup(request: Request, reference: str, queryset: QuerySet[LegalRequest] | None = None) -> LegalRequest:
    return get_visible_request(request.user, reference, ip_address=client_ip(request), queryset=queryset)


class RequestListCreateView(OneTripThrottling, generics.ListCreateAPIView):
    """List your authority's requests (newest first) or submit a new one."""

    pagination_class = NewestFirstCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = RequestFilter
    throttle_classes = [AuthorityRateThrottle, AuthoritySubmitThrottle]

    def get_queryset(self) -> QuerySet[LegalRequest]:
        return visible_requests(self.request.user).only(*RequestListSerializer.Meta.fields)

    def get_serializer_class(self) -> type:
        return RequestCreateSerializer if self.request.method == "POST" else RequestListSerializer

    @extend_schema(
        request=RequestCreateSerializer,
        responses={201: RequestReceiptSerializer, 200: RequestReceiptSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
                                     description="Repeat a POST safely: the same key returns the first result.")],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = RequestCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key") or None
        if key is not None and not (1 <= len(key) <= 255):
            raise ServiceError("Idempotency-Key must be 1 to 255 characters.", code="invalid_idempotency_key")
        legal_request, created = request_submit(
            actor=request.user, data=serializer.validated_data, idempotency_key=key, ip_address=client_ip(request)
        )
        if created:
            # Everything about a new request is in hand: no read-back (performance.md §8).
            history = [{"status": legal_request.status, "from_status": None, "at": legal_request.received_at}]
            body = RequestReceiptSerializer(legal_request, context={"history": history}).data
        else:
            body = RequestReceiptSerializer(legal_request).data
        response = Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
        response["Location"] = f"/api/v1/requests/{legal_request.reference}/"
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response


class RequestDetailView(APIView):
    @extend_schema(responses=RequestDetailSerializer)
    def get(self, request: Request, reference: str) -> Response:
        legal_request = _lookup(request, reference, detail_queryset(request.user))
        return Response(RequestDetailSerializer(legal_request).data)


class RequestCheckView(APIView):
    """The assessment of a request body without storing anything."""

    @extend_schema(request=RequestCreateSerializer, responses=DecisionSerializer)
    def post(self, request: Request) -> Response:
        serializer = RequestCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(request_check(actor=request.user, data=serializer.validated_data))


class RequestWithdrawView(APIView):
    @extend_schema(request=WithdrawSerializer, responses=RequestDetailSerializer)
    def post(self, request: Request, reference: str) -> Response:
        serializer = WithdrawSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        legal_request = _lookup(request, reference)
        request_withdraw(actor=request.user, request=legal_request, reason=serializer.validated_data["reason"],
                         ip_address=client_ip(request))
        return Response(RequestDetailSerializer(detail_queryset(request.user).get(pk=legal_request.pk)).data)


class RequestClarificationView(APIView):
    @extend_schema(request=ClarificationSerializer, responses=RequestDetailSerializer)
    def post(self, request: Request, reference: str) -> Response:
        serializer = ClarificationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        legal_request = _lookup(request, reference)
        clarification_submit(actor=request.user, request=legal_request, message=serializer.validated_data["message"],
                             changes=serializer.validated_data["changes"], ip_address=client_ip(request))
        return Response(RequestDetailSerializer(detail_queryset(request.user).get(pk=legal_request.pk)).data)


class AttachmentListCreateView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(responses=AttachmentSerializer(many=True))
    def get(self, request: Request, reference: str) -> Response:
        legal_request = _lookup(request, reference)
        return Response(AttachmentSerializer(legal_request.attachments.all(), many=True).data)

    @extend_schema(request={"multipart/form-data": AttachmentUploadSerializer}, responses={201: AttachmentSerializer})
    def post(self, request: Request, reference: str) -> Response:
        legal_request = _lookup(request, reference)
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attachment = attachment_add(actor=request.user, request=legal_request, upload=serializer.validated_data["file"],
                                    kind=serializer.validated_data["kind"], ip_address=client_ip(request))
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


class AttachmentDownloadView(APIView):
    @extend_schema(responses={(200, "application/pdf"): bytes})
    def get(self, request: Request, reference: str, attachment_id: int) -> FileResponse:
        legal_request = _lookup(request, reference)
        attachment = attachment_find(actor=request.user, request=legal_request, attachment_id=attachment_id,
                                     ip_address=client_ip(request))
        if attachment is None:
            from rest_framework.exceptions import NotFound

            raise NotFound("No such attachment.")
        handle = attachment_open(actor=request.user, attachment=attachment, ip_address=client_ip(request))
        response = FileResponse(handle, as_attachment=True, filename=attachment.original_name,
                                content_type="application/pdf")
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "no-store"
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
        return response


def _file_response(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename) or ""
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


class ResponseView(APIView):
    """The released response package: cover note and the files with their SHA-256."""

    @extend_schema(responses=ResponsePackageSerializer)
    def get(self, request: Request, reference: str) -> Response:
        legal_request = _lookup(request, reference)
        package = released_package(legal_request)
        if package is None:
            raise ServiceError("No response has been released for this request.", code="not_found")
        if not package.is_downloadable():
            raise ServiceError("The response is no longer available for download.", code="response_expired")
        return Response(ResponsePackageSerializer(package, context={"reference": reference}).data)


class ResponseFileView(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request: Request, reference: str, file_id: int) -> HttpResponse:
        legal_request = _lookup(request, reference)
        item, data = response_file_read(actor=request.user, request=legal_request, file_id=file_id,
                                        ip_address=client_ip(request))
        return _file_response(data, item.original_name, "application/octet-stream")


class AnnexIIIPdfView(APIView):
    """Annex III (Reg. (EU) 2023/1543) as a PDF: the reasons and the clarification asked."""

    @extend_schema(responses={(200, "application/pdf"): bytes})
    def get(self, request: Request, reference: str, form_id: int) -> HttpResponse:
        legal_request = _lookup(request, reference)
        form = (AnnexIII.objects.filter(request=legal_request, pk=form_id, sent_at__isnull=False)
                .select_related("request__authority").first())
        if form is None:
            raise ServiceError("No such Annex III form.", code="not_found")
        audit.record("annex_iii.downloaded", actor=request.user, request=legal_request, obj=form,
                     ip_address=client_ip(request))
        return _file_response(annex_iii_pdf.render(form), f"annex-iii-{reference}-{form.pk}.pdf", "application/pdf")


class MessageCreateView(APIView):
    """Write to the provider's legal team about this request."""

    @extend_schema(request=MessageCreateSerializer, responses={201: MessageSerializer})
    def post(self, request: Request, reference: str) -> Response:
        serializer = MessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        legal_request = _lookup(request, reference)
        message = message_from_authority(actor=request.user, request=legal_request,
                                         body=serializer.validated_data["body"], ip_address=client_ip(request))
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)
