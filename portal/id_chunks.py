"""Id lists handed to ``pk__in`` in chunks a statement can take.

With server-side binding (``DATABASES["default"]["OPTIONS"]["server_side_binding"]``) every value
of an ``IN (...)`` list is one parameter, and PostgreSQL's protocol takes at most 65,535 per
statement; Django does not split the list. The legal admin's "select all" hands a service every
matching id (``RetryDiscardAdmin``), which can be more than that after an outage: those services
read, lock and update their rows chunk by chunk, inside their one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

# Well below the protocol's 65,535, leaving room for the statement's other parameters.
MAX_IDS_PER_STATEMENT = 10_000


def id_chunks(ids: Iterable[int], size: int = MAX_IDS_PER_STATEMENT) -> Iterator[list[int]]:
    """The distinct ``ids`` in ascending order (rows are locked in one order whoever asks),
    ``size`` at a time."""
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), size):
        yield ordered[start:start + size]
