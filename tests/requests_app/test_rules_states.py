"""The rules engine is pure (no Django), so it keeps its own copy of the state names it
proposes (``rules.vocab.ST_*``); they must be the states of ``requests_app.states``."""

from __future__ import annotations

from requests_app.rules import draft
from requests_app.rules import vocab as v
from requests_app.states import Status

# The engine's short names for the states it can propose.
ALIASES = {"ST_AWAITING_EA": "AWAITING_ENFORCING_AUTHORITY"}


def test_every_engine_state_is_a_workflow_state_of_the_same_name():
    engine = {name: value for name, value in vars(v).items() if name.startswith("ST_")}
    assert engine, "the engine names no state"
    for name, value in engine.items():
        member = ALIASES.get(name, name.removeprefix("ST_"))
        assert Status[member].value == value, (name, value)


def test_every_state_the_engine_maps_to_exists():
    """Values of the engine's route → state tables (rules.draft) are workflow states."""
    tables = [t for t in vars(draft).values() if isinstance(t, dict) and set(t) & set(v.ROUTES)]
    assert tables
    for table in tables:
        assert set(table.values()) <= set(Status.values), table
