"""The rule check the form shows: the same ``evaluate()`` as ``POST /api/v1/requests/check/``."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from requests_app.access import visible_requests
from requests_app.facts import facts_from_data
from requests_app.provider import provider_config
from requests_app.rules import evaluate


def check_request(user: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The decision for validated request data, as the API's check endpoint returns it."""
    linked = None
    if data.get("linked_reference"):
        linked = visible_requests(user).filter(reference=data["linked_reference"]).first()
    facts = facts_from_data(data, authority=user.authority, received_at=timezone.now(), linked=linked)
    return evaluate(facts, provider_config()).to_dict()
