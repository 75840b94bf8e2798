"""Benchmark: decisions per second of the pure rules engine on one core.

Run: .venv/bin/python bench/rules.py [--seconds 3] [--runs 3] [--json FILE] [--no-write] [--to-dict]

``--to-dict`` times what the portal does per request (``evaluate(...).to_dict()``, every
explanation written) instead of ``evaluate`` alone.

A mix of realistic requests (EPOC subscriber/content, emergency, EPOC-PR and Annex VI, DSA
orders, US process, non-EU requests, defective certificates) is evaluated round-robin in a
single process; the figure printed is decisions per second (not a test: timing decides
nothing, see DESIGN.md §6).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common
from requests_app.rules import (
    DsaDetails,
    Issuer,
    LinkedRequest,
    Offence,
    ProviderConfig,
    RequestFacts,
    Target,
    Validation,
    evaluate,
)

T0 = datetime(2026, 9, 1, 9, 30, tzinfo=UTC)
USER = Target("username", "@suspect_account")
IP = Target("ip_address", "203.0.113.7", T0 - timedelta(days=3))
SERIOUS = Offence("Aggravated fraud", "StGB § 263(3)", 120)
MINOR = Offence("Insult", "CP art. 595", 12)
DSA = DsaDetails(
    "Loi 2004-575 art. 6-3",
    "Apology of terrorism",
    "Tribunal administratif",
    "FR",
    ("https://t.me/somechannel/1234",),
)


def mix() -> list[RequestFacts]:
    def f(
        instrument: str, issuer: tuple[str, str], cats: tuple[str, ...], **kw: object
    ) -> RequestFacts:
        base: dict[str, object] = {
            "instrument": instrument,
            "issuer": Issuer(*issuer),
            "received_at": T0,
            "data_categories": frozenset(cats),
            "targets": (USER, IP),
            "case_reference": "AZ 1/26",
            "summary": "Fraud ring",
            "offence": SERIOUS,
            "language": "en",
        }
        base.update(kw)
        return RequestFacts(**base)  # type: ignore[arg-type]

    judge = Validation("judge", "Amtsgericht", "V-1")
    return [
        f("epoc", ("judge", "DE"), ("subscriber", "identification")),
        f(
            "epoc",
            ("other_competent", "DE"),
            ("subscriber",),
            validation=Validation("prosecutor", "StA"),
        ),
        f("epoc", ("judge", "FR"), ("traffic", "content"), enforcing_authority_notified=True),
        f(
            "epoc",
            ("judge", "IT"),
            ("subscriber", "traffic", "content"),
            offence=MINOR,
            art_8_2_exception=True,
        ),
        f("epoc", ("prosecutor", "IT"), ("content",)),
        f(
            "epoc",
            ("other_competent", "NL"),
            ("subscriber",),
            emergency=True,
            emergency_reason="Threat to life",
        ),
        f("epoc", ("judge", "DK"), ("subscriber",)),
        f("epoc", ("prosecutor", "BE"), ("subscriber",)),
        f(
            "epoc",
            ("judge", "DE"),
            ("identification",),
            targets=(Target("ip_address", "1.2.3.4"), Target("username", "A B")),
        ),
        f("epoc_pr", ("prosecutor", "ES"), ("subscriber", "traffic", "content")),
        f(
            "preservation_extension",
            ("judge", "FR"),
            ("content",),
            linked=LinkedRequest("LRP-1", "epoc_pr", T0 - timedelta(days=55), "preserving"),
        ),
        f("dsa_removal_order", ("administrative", "FR"), (), dsa=DSA),
        f("dsa_information_order", ("administrative", "NL"), ("subscriber",), dsa=DSA),
        f("us_subpoena", ("prosecutor", "US"), ("subscriber", "traffic")),
        f("us_search_warrant", ("other_competent", "US"), ("content",), validation=judge),
        f("us_preservation", ("other_competent", "US"), ("content",)),
        f(
            "emergency_disclosure",
            ("other_competent", "US"),
            ("subscriber", "content"),
            emergency=True,
            emergency_reason="Kidnapping",
        ),
        f(
            "national_order",
            ("other_competent", "IN"),
            ("subscriber", "content"),
            validation=judge,
            suspect_named=True,
        ),
    ]


def floor_pass(request: RequestFacts, config: ProviderConfig) -> int:
    """The floor: read every field of the facts once (what any rule set must at least do)."""
    return sum(1 for f in fields(request) if getattr(request, f.name) is not None)


def rate(fn, requests: list[RequestFacts], config: ProviderConfig, seconds: float) -> tuple[float, int]:
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for request in requests:
            fn(request, config)
        count += len(requests)
    return count / (time.perf_counter() - started), count


def bytecodes_per_decision(fn, requests: list[RequestFacts], config: ProviderConfig, rounds: int = 3) -> float:
    """Python bytecodes executed per decision (sys.settrace opcode events), C code not
    counted: the same on a loaded machine as on an idle one, so a change of the engine shows
    even when the shared machine makes the timings noise."""
    count = 0

    def trace(frame, event, arg):  # type: ignore[no-untyped-def]
        nonlocal count
        frame.f_trace_opcodes = True
        if event == "opcode":
            count += 1
        return trace

    sys.settrace(trace)
    try:
        for _ in range(rounds):
            for request in requests:
                fn(request, config)
    finally:
        sys.settrace(None)
    return count / (rounds * len(requests))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per run (default 3)")
    parser.add_argument("--no-write", action="store_true", help="do not touch bench/RESULTS.md")
    parser.add_argument("--to-dict", action="store_true", help="time evaluate(...).to_dict()")
    common.add_run_args(parser)
    args = parser.parse_args()
    requests = mix()
    config = ProviderConfig()
    for request in requests:  # warm caches (holiday tables) before timing
        evaluate(request, config)
    def decide(request: RequestFacts, config: ProviderConfig) -> object:
        return evaluate(request, config).to_dict()

    timed = decide if args.to_dict else evaluate
    load_before = os.getloadavg()
    rates, floors, counts = [], [], []
    for run in range(args.runs):
        value, count = rate(timed, requests, config, args.seconds)
        floor, _ = rate(floor_pass, requests, config, min(1.0, args.seconds))
        rates.append(value)
        floors.append(floor)
        counts.append(count)
        print(f"run {run + 1}: {value:,.0f} decisions/s (floor {floor:,.0f}/s)", flush=True)
    bytecodes = bytecodes_per_decision(timed, requests, config)
    print(f"{bytecodes:,.0f} Python bytecodes per decision", flush=True)
    routes: dict[str, int] = {}
    for request in requests:
        route = evaluate(request, config).route
        routes[route] = routes.get(route, 0) + 1
    load_after = os.getloadavg()
    what = "evaluate(...).to_dict()" if args.to_dict else "evaluate()"
    figure = common.Figure(f"rules engine, {what} decisions/s on one core", rates,
                           "floor: read every field of the facts, /s", floors, aim=f"≥ {AIM:,}/s",
                           met=common.median(rates) >= AIM, fmt="{:,.0f}")
    body = "\n".join([
        "## Rules engine (`bench/rules.py`)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {common.machine_summary()}; "
        f"{common.tree_state()}; load average (1, 5, 15 min) {_load(load_before)} before, "
        f"{_load(load_after)} after (the machine is shared: read the ratio to the floor).",
        "",
        f"```\n.venv/bin/python bench/rules.py --seconds {args.seconds:g} --runs {args.runs}"
        + (" --to-dict" if args.to_dict else "")
        + "\n```",
        "",
        f"`{what}` round-robin over a mix of {len(requests)} realistic requests ("
        + ", ".join(f"{k} {n}" for k, n in sorted(routes.items()))
        + f") in one process, {args.seconds:g} s per run ({common.spread(counts, '{:,.0f}')} decisions per run); "
        "the floor, in the same run, reads every field of the same facts once. Median (min–max) over "
        f"{args.runs} runs.",
        "",
        common.figures_table([figure]),
        "",
        f"Load-independent: **{bytecodes:,.0f} Python bytecodes per decision** over the same mix "
        "(a `sys.settrace` opcode count; C code not counted), to compare versions of the engine "
        "when the shared machine makes the rates noise.",
    ])
    print(body)
    common.dump_figures(args.json, "rules", [figure])
    if not args.no_write:
        common.write_section("rules", body)


def _load(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.1f}" for x in values)


AIM = 10_000
if __name__ == "__main__":
    main()
