from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import AuthorityType
from accounts.services import authority_create


class Command(BaseCommand):
    help = "Register a verified authority (the legal team has vetted it out of band)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--country", required=True, help="ISO 3166-1 alpha-2, e.g. FR")
        parser.add_argument("--type", required=True, choices=AuthorityType.values, dest="authority_type")
        parser.add_argument("--domain", action="append", default=[], help="verified e-mail domain (repeatable)")
        parser.add_argument("--phone", required=True, help="switchboard number from an official registry")
        parser.add_argument("--pending", action="store_true", help="register as pending vetting")

    def handle(self, *args, **opts):
        if not opts["domain"]:
            raise CommandError("Give at least one --domain.")
        try:
            authority = authority_create(
                name=opts["name"], country=opts["country"], authority_type=opts["authority_type"],
                domains=opts["domain"], switchboard_phone=opts["phone"], verified=not opts["pending"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"authority {authority.pk}: {authority}")
