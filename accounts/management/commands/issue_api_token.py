from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import token_issue


class Command(BaseCommand):
    help = "Issue an API token for an officer and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="API token")
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args, **opts):
        user = User.objects.filter(email=opts["email"].lower()).select_related("authority").first()
        if user is None:
            raise CommandError(f"No user {opts['email']}.")
        try:
            token, raw = token_issue(user=user, name=opts["name"], days=opts["days"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stderr.write(f"token {token.prefix}… expires {token.expires_at:%Y-%m-%d %H:%M} UTC; shown once:")
        self.stdout.write(raw)
