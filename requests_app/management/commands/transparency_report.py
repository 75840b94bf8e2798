import csv
import io
import json
from datetime import date, datetime

from django.core.management.base import BaseCommand, CommandError

from requests_app.reports import COLUMNS, local_midnight, transparency_rows


def _day(value: str) -> datetime:
    """The start of a day in the provider's establishment zone (as the admin's transparency page)."""
    try:
        return local_midnight(date.fromisoformat(value))
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from exc


class Command(BaseCommand):
    help = ("Transparency report per country and instrument for requests received in [--from, --to), days "
            "starting at midnight in the provider's establishment zone.")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD (inclusive)")
        parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD (exclusive)")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")

    def handle(self, *args, **opts):
        start, end = _day(opts["start"]), _day(opts["end"])
        if end <= start:
            raise CommandError("--to must be after --from")
        rows = transparency_rows(start, end)
        if opts["format"] == "json":
            self.stdout.write(json.dumps({"from": opts["start"], "to": opts["end"], "rows": rows}, indent=2))
            return
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        self.stdout.write(buffer.getvalue(), ending="")
