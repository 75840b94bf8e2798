"""The admin's list of models (index and navigation sidebar): the legal team's sections first,
the technical plumbing in one section of its own at the end (issue 13 item 4).

Only a superuser sees the plumbing at all (each of our internal admins' ``has_module_permission``;
Django's for the third-party ones). The provider's legal administrator is a superuser (only a
superuser changes staff accounts, accounts/staff.py), so without this their index interleaved the
outbox, idempotency records, login-throttling logs and the beat schedule with the requests.
"""

from __future__ import annotations

from typing import Any

# (app label, model object name or "*" for the whole app): delivery, replay protection, login
# throttling and the task schedule. Nobody in the legal team works a request through them.
TECHNICAL = {("outbox", "*"), ("requests_app", "IdempotencyRecord"), ("axes", "*"), ("django_celery_beat", "*")}
TECHNICAL_LABEL = "operations"
TECHNICAL_NAME = "Operations (technical)"


def is_technical(app_label: str, object_name: str) -> bool:
    return (app_label, "*") in TECHNICAL or (app_label, object_name) in TECHNICAL


def legal_team_first(app_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``app_list`` with the requests' section first and every technical model moved into one
    trailing section (each named with its app, which the section no longer says)."""
    kept, technical = [], []
    for app in app_list:
        models = [m for m in app["models"] if not is_technical(app["app_label"], m["object_name"])]
        technical += [{**m, "name": f"{m['name']} ({app['name']})"} for m in app["models"] if m not in models]
        if models:
            kept.append({**app, "models": models})
    # The requests first: the section the legal team opens the admin for.
    kept.sort(key=lambda app: app["app_label"] != "requests_app")
    if technical:
        kept.append({"name": TECHNICAL_NAME, "app_label": TECHNICAL_LABEL, "app_url": "#", "has_module_perms": True,
                     "models": technical})
    return kept
