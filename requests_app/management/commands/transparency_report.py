"""manage.py transparency_report: the figures of ``requests_app.reports.transparency_figures``
(the same as the admin's transparency page and its downloads) for [--from, --to)."""

import json
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from requests_app.reports import (
    Period,
    figures_csv,
    for_publication,
    local_midnight,
    stored_facts_mismatches,
    summary_mismatches,
    transparency_figures,
)


def _day(value: str) -> datetime:
    """The start of a day in the provider's establishment zone (as the admin's transparency page)."""
    try:
        return local_midnight(date.fromisoformat(value))
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from exc


class Command(BaseCommand):
    help = ("Transparency report by issuing country, instrument and data category for requests received in "
            "[--from, --to), days starting at midnight in the provider's establishment zone. Counted by the "
            "database; DSA orders with the median hours to acknowledge and to give effect.")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD (inclusive)")
        parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD (exclusive)")
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--publication", action="store_true",
                            help="apply the small-count rule: counts under the threshold become a band")
        parser.add_argument("--threshold", type=int, default=None,
                            help="small-count threshold for --publication (default TRANSPARENCY_SMALL_COUNT)")
        parser.add_argument("--check-facts", action="store_true",
                            help="instead of the figures, check the facts stored on the period's requests "
                                 "against the audit trail, targets and extensions; fails on any difference")
        parser.add_argument("--check-summary", action="store_true",
                            help="instead of the figures, check the monthly summary against the requests counted "
                                 "one by one, and the period's figures from it against those counted without "
                                 "it; fails on any difference")

    def handle(self, *args, **opts):
        start, end = _day(opts["start"]), _day(opts["end"])
        if end <= start:
            raise CommandError("--to must be after --from")
        threshold = settings.TRANSPARENCY_SMALL_COUNT if opts["threshold"] is None else opts["threshold"]
        if threshold < 1:
            raise CommandError("--threshold must be at least 1")
        last = (end - timedelta(days=1)).date()
        period = Period(f"{opts['start']} – {last.isoformat()}", start, end)
        if opts["check_facts"]:
            differences = stored_facts_mismatches(period)
            for d in differences:
                self.stdout.write(f"request {d['request_id']}: {d['field']} stored {d['stored']!r}, "
                                  f"the record says {d['source']!r}")
            if differences:
                raise CommandError(f"{len(differences)} stored transparency facts differ from the record")
            self.stdout.write("stored transparency facts agree with the audit trail")
            return
        if opts["check_summary"]:
            self._check_summary(period)
            return
        figures = transparency_figures(period)
        if opts["publication"]:
            figures = for_publication(figures, int(threshold))
        if opts["format"] == "json":
            self.stdout.write(json.dumps(figures, indent=2, ensure_ascii=False))
            return
        self.stdout.write(figures_csv(figures), ending="")

    def _check_summary(self, period: Period) -> None:
        differences = summary_mismatches()
        for d in differences:
            self.stdout.write(f"month {d['month']} {d['country']} {d['instrument']} {d['status']}: (requests, "
                              f"targets) counted {d['counted']}, in the summary {d['summary']}")
        if differences:
            raise CommandError(f"{len(differences)} groups of the monthly summary differ from the requests")
        if transparency_figures(period) != transparency_figures(period, use_summary=False):
            raise CommandError("the period's figures from the monthly summary differ from those counted without it")
        self.stdout.write("the monthly summary agrees with the requests, and the period's figures with it")
