from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Authority
from accounts.services import officer_create


def find_authority(name_or_id: str) -> Authority:
    query = Authority.objects.filter(pk=int(name_or_id)) if name_or_id.isdigit() else Authority.objects.filter(
        name=name_or_id
    )
    authority = query.first()
    if authority is None:
        raise CommandError(f"No authority {name_or_id!r}.")
    return authority


class Command(BaseCommand):
    help = "Create an active officer with a verified address on one of the authority's domains."

    def add_arguments(self, parser):
        parser.add_argument("--authority", required=True, help="name or id")
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", default=None)

    def handle(self, *args, **opts):
        authority = find_authority(opts["authority"])
        try:
            user = officer_create(authority=authority, email=opts["email"], password=opts["password"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"officer {user.pk}: {user.email} ({authority.name})")
