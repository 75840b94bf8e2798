"""The transparency page of the legal team's admin (issue 13 item 6): the figures of
``reports.transparency_figures`` for a quarter, a half-year, a year or any range of days, as
tables and server-side SVG bar charts (no script), with CSV and JSON downloads.

By default the page shows what may be published: counts under ``TRANSPARENCY_SMALL_COUNT``
become a band ("1–9"), and so do the charts' bars. The exact figures are one choice away,
for the legal team's own use.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import reports
from ..models.review import AnnexIIIReason
from ..permissions import can
from ..states import DataCategory, Instrument

KINDS = [("quarter", gettext_lazy("Quarter")), ("half", gettext_lazy("Half-year")), ("year", gettext_lazy("Year")),
         ("range", gettext_lazy("From … to …"))]


class PeriodForm(forms.Form):
    kind = forms.ChoiceField(choices=KINDS, initial="quarter", label=gettext_lazy("Period"))
    year = forms.IntegerField(min_value=2000, max_value=2100, required=False, label=gettext_lazy("Year"))
    number = forms.IntegerField(min_value=1, max_value=4, required=False,
                                label=gettext_lazy("Quarter or half (1-4 / 1-2)"))
    first = forms.DateField(required=False, label=gettext_lazy("First day"),
                            widget=forms.DateInput(attrs={"type": "date"}))
    last = forms.DateField(required=False, label=gettext_lazy("Last day (inclusive)"),
                           widget=forms.DateInput(attrs={"type": "date"}))
    view = forms.ChoiceField(choices=[("publication", gettext_lazy("For publication (small counts as bands)")),
                                      ("exact", gettext_lazy("Exact figures (internal)"))], initial="publication",
                             required=False, label=gettext_lazy("View"))

    def period(self) -> reports.Period:
        data = self.cleaned_data
        try:
            return reports.period_of(data["kind"], year=data.get("year"), number=data.get("number"),
                                     first=data.get("first"), last=data.get("last"))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            data["period"] = self.period()
        return data


def _default_query() -> dict[str, Any]:
    """The last complete quarter, in the provider's zone."""
    today = timezone.now().astimezone(reports.local_midnight(date(2000, 1, 1)).tzinfo).date()
    quarter = (today.month - 1) // 3 + 1
    year, number = (today.year, quarter - 1) if quarter > 1 else (today.year - 1, 4)
    return {"kind": "quarter", "year": year, "number": number, "view": "publication"}


# What a person reads for each key and column (the CSV and JSON keep the keys: they are data,
# the same as the command's, and read by programs).
OUTCOME_LABELS = {
    "some_data_produced": gettext_lazy("some data produced"), "not_executed": gettext_lazy("not executed"),
    "rerouted": gettext_lazy("rerouted"), "withdrawn": gettext_lazy("withdrawn"),
    "released_without_data": gettext_lazy("released without data"),
    "closed_without_data": gettext_lazy("closed without data"), "open": gettext_lazy("open"),
}
COLUMN_LABELS = {
    "received": gettext_lazy("received"), "accounts_specified": gettext_lazy("accounts specified"),
    "emergency": gettext_lazy("emergency"), "confidential": gettext_lazy("confidential"),
    "no_data": gettext_lazy("no data"), "preservation_orders": gettext_lazy("preservation orders"),
    "preserved": gettext_lazy("preserved"), "extension_requests": gettext_lazy("extension requests"),
    "extended": gettext_lazy("extended"), "dsa_orders": gettext_lazy("DSA orders"),
    **OUTCOME_LABELS,
    "dsa_median_hours_to_acknowledge": gettext_lazy("DSA median hours to acknowledge"),
    "dsa_median_hours_to_effect": gettext_lazy("DSA median hours to give effect"),
    "share_with_data_produced": gettext_lazy("share with some data produced"),
}
DIMENSION_LABELS = {"country": gettext_lazy("Issuing country"), "instrument": gettext_lazy("Instrument"),
                    "data_category": gettext_lazy("Data category"),
                    "country_instrument": gettext_lazy("Issuing country and instrument")}
# The columns of the page's tables (the CSV and JSON carry every column, the reasons included).
TABLE_COLUMNS = (*reports.FIGURES, "share_with_data_produced", *reports.MEDIANS)
REASON_LABELS = dict(AnnexIIIReason.choices)


def _labels() -> dict[str, dict[str, str]]:
    """Read in the page's language, so built per request (not at import)."""
    return {"instrument": {k: str(v) for k, v in Instrument.choices},
            "data_category": {k: str(v) for k, v in DataCategory.choices},
            "country": {}, "outcome": {k: str(v) for k, v in OUTCOME_LABELS.items()}}


def _key_label(dimension: str, row: dict[str, Any]) -> str:
    labels = _labels()
    if dimension == "country_instrument":
        return f"{row['country']} · {labels['instrument'].get(row['instrument'], row['instrument'])}"
    return labels[dimension].get(row[dimension], row[dimension])

# Bar colours (SVG presentation attributes, not styles: the strict CSP allows them).
BAR, BAND = "#1d4e89", "#9fb7d6"


def bar_chart(rows: list[dict[str, Any]], key: str, figure: str, *, threshold: int | None,
              title: str) -> SafeString:
    """A horizontal bar chart as SVG markup; every text is escaped. A banded count is drawn
    as a pale bar of the band's upper bound, so the chart reveals no more than the table."""
    height_per_bar, chart_width = 22, 360
    height = 30 + height_per_bar * max(len(rows), 1)
    labels = _labels().get(key, {})
    # Wide enough for the longest label in full (12 px text, about 7 px a character): a label
    # cut short ("European Preservation Order (EPO") leaves the reader guessing which bar it is.
    label_width = max([200] + [7 * len(str(labels.get(row[key], row[key]))) + 12 for row in rows])
    values = []
    for row in rows:
        value = row[figure]
        banded = isinstance(value, str)
        values.append((row[key], (threshold - 1) if banded and threshold else float(value), value, banded))
    top = max([v for _k, v, _s, _b in values] + [1])
    width_total = label_width + chart_width + 80
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="lrp-chart" role="img" width="{width_total}" '
             f'height="{height}" viewBox="0 0 {width_total} {height}">',
             f"<title>{escape(title)}</title>",
             f'<text x="0" y="16" font-weight="bold" font-size="13">{escape(title)}</text>']
    if not values:
        parts.append(f'<text x="0" y="44" font-size="12">{escape(_("No request in this period."))}</text>')
    for i, (name, length, shown, banded) in enumerate(values):
        y = 26 + i * height_per_bar
        width = round(chart_width * length / top)
        label = labels.get(name, name)
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{escape(str(label))}</text>')
        parts.append(f'<rect x="{label_width}" y="{y + 2}" width="{max(width, 1)}" height="16" '
                     f'fill="{BAND if banded else BAR}">'
                     f"<title>{escape(str(label))}: {escape(str(shown))}</title></rect>")
        parts.append(f'<text x="{label_width + max(width, 1) + 6}" y="{y + 14}" font-size="12">'
                     f"{escape(str(shown))}</text>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every interpolated text is escaped above)


# One colour per line (presentation attributes); the countries after the first ones are summed.
LINE_COLOURS = ("#1d4e89", "#c8553d", "#2a9d8f", "#8e5572", "#e9c46a", "#5c677d", "#6a994e", "#bc4749")


def line_chart(series: reports.Series, *, threshold: int | None, title: str) -> SafeString:
    """Requests received per day or month, one line per issuing country (the most frequent
    first, the rest as one line), as SVG markup; every text is escaped. In the publication view
    a banded count is drawn at the band's upper bound as a hollow point, its value the band."""
    countries = list(series.counts)
    lines = [(c, list(series.counts[c])) for c in countries[: len(LINE_COLOURS) - 1]]
    rest = countries[len(LINE_COLOURS) - 1:]
    if rest:
        lines.append((str(_("other countries")), [sum(v) for v in zip(*(series.counts[c] for c in rest), strict=True)]))
    left, top_margin, plot_w, plot_h, legend_w = 40, 30, 520, 180, 150
    width, height = left + plot_w + legend_w, top_margin + plot_h + 40
    n = len(series.buckets)
    top = max([max(v) for _c, v in lines if v] + [1])
    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(value: float) -> float:
        return top_margin + plot_h - plot_h * value / top

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="lrp-chart" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}">', f"<title>{escape(title)}</title>",
             f'<text x="0" y="16" font-weight="bold" font-size="13">{escape(title)}</text>',
             f'<line x1="{left}" y1="{top_margin + plot_h}" x2="{left + plot_w}" y2="{top_margin + plot_h}" '
             'stroke="#888"/>',
             f'<text x="0" y="{top_margin + 10}" font-size="11">{top}</text>',
             f'<text x="0" y="{top_margin + plot_h}" font-size="11">0</text>']
    if not lines:
        parts.append(f'<text x="{left}" y="{top_margin + 40}" font-size="12">{escape(_("No request in this period."))}'
                     "</text>")
    fmt = "%Y-%m" if series.unit == "month" else "%d %b"
    step = max(1, n // 8)
    for i, day in enumerate(series.buckets):
        if i % step == 0 or i == n - 1:
            parts.append(f'<text x="{x(i):.1f}" y="{top_margin + plot_h + 16}" font-size="11" text-anchor="middle">'
                         f"{escape(day.strftime(fmt))}</text>")
    for k, (name, values) in enumerate(lines):
        colour = LINE_COLOURS[k % len(LINE_COLOURS)]
        points = []
        for i, value in enumerate(values):
            banded = threshold is not None and 0 < value < threshold
            drawn = (threshold - 1) if banded and threshold else value
            points.append((x(i), y(drawn), reports.band(value, threshold) if threshold else value, banded))
        parts.append(f'<polyline class="lrp-series" data-country="{escape(name)}" fill="none" stroke="{colour}" '
                     f'stroke-width="2" points="{" ".join(f"{px:.1f},{py:.1f}" for px, py, _v, _b in points)}"/>')
        for (px, py, shown, banded), day in zip(points, series.buckets, strict=True):
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" stroke="{colour}" '
                         f'fill="{"#fff" if banded else colour}"><title>{escape(name)} {escape(day.isoformat())}: '
                         f"{escape(str(shown))}</title></circle>")
        ly = top_margin + 14 * k
        parts.append(f'<rect x="{left + plot_w + 14}" y="{ly}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{left + plot_w + 30}" y="{ly + 9}" font-size="12">{escape(name)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every interpolated text is escaped above)


def transparency(model_admin: Any, request: Any) -> HttpResponse:
    if not can(request.user, "review"):
        raise PermissionDenied
    form = PeriodForm(request.GET or _default_query())
    context: dict[str, Any] = {**model_admin.admin_site.each_context(request), "title": _("Transparency report"),
                               "form": form, "opts": model_admin.model._meta}
    if not form.is_valid():
        return TemplateResponse(request, "admin/requests_app/legalrequest/transparency.html", context, status=400)
    period = form.cleaned_data["period"]
    threshold = int(settings.TRANSPARENCY_SMALL_COUNT)
    figures = reports.transparency_figures(period)
    publication = form.cleaned_data.get("view") != "exact"
    shown = reports.for_publication(figures, threshold) if publication else figures
    fmt = request.GET.get("format", "")
    last_day = (period.end - timedelta(days=1)).date()  # the period's zone: its own civil days
    stem = f"transparency-{period.start.date().isoformat()}-{last_day.isoformat()}"
    if fmt == "json":
        response = HttpResponse(json.dumps(shown, indent=2, ensure_ascii=False), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{stem}.json"'
        return response
    if fmt == "csv":
        response = HttpResponse(reports.figures_csv(shown), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
        return response
    band_threshold = threshold if publication else None
    query = request.GET.copy() if request.GET else _as_query(form.cleaned_data)
    query.pop("format", None)
    context.update(
        period=period, figures=shown, publication=publication, threshold=threshold,
        columns=[(name, str(COLUMN_LABELS[name])) for name in TABLE_COLUMNS],
        # Each row's cells in the columns' order, so that the template does not search a row's
        # ~30 keys for each of its cells (at 1M requests: 336 rows × 22 columns, 2.5 s of rendering).
        total_cells=_cells(shown["total"]),
        tables=[(str(title), dimension, str(DIMENSION_LABELS[dimension]),
                 [(_key_label(dimension, r), _cells(r)) for r in shown[dimension]])
                for title, dimension in ((_("By issuing country"), "country"), (_("By instrument"), "instrument"),
                                         (_("By data category"), "data_category"),
                                         (_("By issuing country and instrument"), "country_instrument"))],
        reasons=[(code, str(REASON_LABELS.get(code, code)), shown["total"][f"not_executed__{code}"])
                 for code in reports.REASONS],
        charts=[line_chart(reports.requests_over_time(period), threshold=band_threshold,
                           title=_("Requests received over time, by issuing country"))]
        + [bar_chart(shown[d], d, "received", threshold=band_threshold, title=t)
           for t, d in ((_("Requests received by issuing country"), "country"),
                        (_("Requests received by instrument"), "instrument"),
                        (_("Requests received by data category"), "data_category"))]
        + [bar_chart(shown["country"], "country", "some_data_produced", threshold=band_threshold,
                     title=_("Requests with some data produced, by issuing country")),
           bar_chart([{"outcome": o, "n": shown["total"][o]} for o in reports.OUTCOMES], "outcome", "n",
                     threshold=band_threshold, title=_("Outcomes of the period's requests")),
           bar_chart([r for r in shown["country"] if r["dsa_median_hours_to_effect"] is not None], "country",
                     "dsa_median_hours_to_effect", threshold=None,
                     title=_("DSA orders: median hours to give effect, by issuing country"))],
        csv_query=_encode(query, "csv"), json_query=_encode(query, "json"),
    )
    return TemplateResponse(request, "admin/requests_app/legalrequest/transparency.html", context)


def _cells(row: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(name, row.get(name)) for name in TABLE_COLUMNS]


def _as_query(data: dict[str, Any]) -> Any:
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    for key in ("kind", "year", "number", "first", "last", "view"):
        if data.get(key) not in (None, ""):
            query[key] = str(data[key])
    return query


def _encode(query: Any, fmt: str) -> str:
    copy = query.copy()
    copy["format"] = fmt
    return copy.urlencode()
