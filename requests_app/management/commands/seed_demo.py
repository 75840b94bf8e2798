"""Demo data for the embedded mode: two authorities, officers, the legal team, requests."""

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Authority, User
from accounts.services import authority_create, officer_create, token_issue
from requests_app.services.submission import request_submit, request_withdraw
from requests_app.services.validation import request_validate

OFFICER_PASSWORD = "demo-officer-pass-2026"
STAFF_PASSWORD = "demo-legal-pass-2026"

AUTHORITIES = [
    {"name": "Police nationale – OFAC", "country": "FR", "authority_type": "other_competent",
     "domains": ["interieur.gouv.fr"], "switchboard_phone": "+33140975050",
     "officers": ["enqueteur@interieur.gouv.fr", "analyste@interieur.gouv.fr"]},
    {"name": "Staatsanwaltschaft Berlin", "country": "DE", "authority_type": "prosecutor",
     "domains": ["sta.berlin.de"], "switchboard_phone": "+4930901420",
     "officers": ["staatsanwalt@sta.berlin.de"]},
]
STAFF = [
    ("admin@provider.example", "Legal admin", "legal_admin"),
    ("reviewer@provider.example", "Legal reviewer", "legal_reviewer"),
    ("approver@provider.example", "Legal approver", "legal_approver"),
]


def _body(now, **overrides):
    body = {
        "instrument": "epoc",
        "data_categories": ["subscriber"],
        "targets": [{"kind": "username", "value": "suspect_account"}],
        "data_from": now - timedelta(days=30),
        "data_to": now - timedelta(days=1),
        "case_reference": "DEMO-2026-001",
        "summary": "Online fraud investigation.",
        "offence": {"description": "Fraud", "legal_provisions": "Art. 313-1 Code pénal", "max_sentence_months": 60,
                    "listed_offence": None, "via_information_system": True, "sentence_execution": None},
        "emergency": False,
        "emergency_reason": "",
        "validation": None,
        "language": "en",
    }
    body.update(overrides)
    return body


class Command(BaseCommand):
    help = "Load demo authorities, officers, legal team users and requests (embedded mode only)."

    def handle(self, *args, **opts):
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run with DJANGO_ENV=production.")
        if Authority.objects.filter(name=AUTHORITIES[0]["name"]).exists():
            self.stdout.write("Demo data already loaded.")
            self._print_logins(tokens={})
            return
        with transaction.atomic():
            tokens = self._seed()
        self._print_logins(tokens)

    def _seed(self):
        tokens = {}
        officers = []
        for spec in AUTHORITIES:
            spec = dict(spec)
            emails = spec.pop("officers")
            authority = authority_create(**spec)
            for email in emails:
                officers.append(officer_create(authority=authority, email=email, password=OFFICER_PASSWORD))
        for email, name, role in STAFF:
            first, _, last = name.partition(" ")
            user = User.objects.create_user(email=email, password=STAFF_PASSWORD, is_staff=True,
                                            is_superuser=role == "legal_admin", first_name=first, last_name=last)
            user.groups.add(Group.objects.get(name=role))
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        now = timezone.now()
        french, german = officers[0], officers[2]
        # The French officer also administers their authority's officers (approvals).
        User.objects.filter(pk=french.pk).update(is_authority_admin=True)
        _, tokens[french.email] = token_issue(user=french, name="demo")
        _, tokens[german.email] = token_issue(user=german, name="demo")

        submit = lambda actor, **kw: request_submit(actor=actor, data=_body(now, **kw), channel="web")[0]  # noqa: E731
        validated_by = {"authority_type": "prosecutor", "authority_name": "Parquet de Paris",
                        "reference": "PQ-2026-5521", "date": now.date()}
        submit(french, case_reference="OFAC-2026-0101", validation=validated_by)  # validated when the worker runs
        ok = submit(french, case_reference="OFAC-2026-0102", validation=validated_by,
                    targets=[{"kind": "phone", "value": "+33612345678"}])
        unclear = submit(french, case_reference="OFAC-2026-0104", validation=validated_by,
                         targets=[{"kind": "ip_address", "value": "203.0.113.7"}])
        refused = submit(german, instrument="epoc", data_categories=["traffic"], case_reference="StA-2026-77",
                         targets=[{"kind": "username", "value": "suspect_account"}])
        preserve = submit(german, instrument="epoc_pr", data_categories=["subscriber", "traffic", "content"],
                          case_reference="StA-2026-78", targets=[{"kind": "username", "value": "suspect_account"}])
        emergency = submit(german, instrument="emergency_disclosure", emergency=True, case_reference="StA-2026-99",
                           emergency_reason="Credible threat to kill announced in a public channel.",
                           targets=[{"kind": "channel_url", "value": "https://t.me/example_channel"}])
        withdrawn = submit(french, case_reference="OFAC-2026-0103")
        for request in (ok, unclear, refused, preserve, emergency):
            request_validate(request_id=request.pk)
        request_withdraw(actor=french, request=withdrawn, reason="Duplicate of OFAC-2026-0102.")
        return tokens

    def _print_logins(self, tokens):
        out = self.stdout.write
        out("")
        out("Demo logins (embedded mode only). Every account enrols a second factor (TOTP) at first sign-in:")
        out(f"  legal admin     admin@provider.example     / {STAFF_PASSWORD}")
        out(f"  legal reviewer  reviewer@provider.example  / {STAFF_PASSWORD}")
        out(f"  legal approver  approver@provider.example  / {STAFF_PASSWORD}")
        for spec in AUTHORITIES:
            for email in spec["officers"]:
                admin_note = "  (authority administrator)" if email == AUTHORITIES[0]["officers"][0] else ""
                out(f"  officer ({spec['country']})    {email:<28} / {OFFICER_PASSWORD}{admin_note}")
        for email, raw in tokens.items():
            out(f"  API token for {email}: {raw}")
        if not tokens:
            out("  (API tokens are shown only when first created: manage.py issue_api_token --email ...)")
