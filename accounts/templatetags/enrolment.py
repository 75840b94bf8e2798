"""``{% mfa_enrolment as enrolment %}``: the enrolment state on the second-factor pages only
(not a context processor: the other pages need no extra query)."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.enrolment import enrolment_context

register = template.Library()


@register.simple_tag(takes_context=True)
def mfa_enrolment(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    return enrolment_context(request) if request is not None else {}
