"""What PostgreSQL writes for a stretch of work on one database, read back from the WAL.

Load-independent figures for bench/profile_submission.py ``--wal``: WAL bytes (and of them full
page images, which depend on when the last checkpoint was), heap row versions per table (insert,
update, HOT update, delete, row lock, the speculative-insert confirmation of ``ON CONFLICT``),
B-tree entries per index, and commits. The records come from ``pg_walinspect``
(``pg_get_wal_records_info``, PostgreSQL 15) between two LSNs; the cluster is shared, so only
records that touch a block of this database are kept, with the commit records of the transactions
that wrote them. The extension is created in the bench database only (no cluster setting changes).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

_BLOCK = re.compile(r"rel (\d+)/(\d+)/(\d+)")
_NTUPLES = re.compile(r"(\d+) tuples|ntuples:? (\d+)")

# B-tree records that add one index entry (a split carries the incoming tuple).
_BTREE_ENTRY = {"INSERT_LEAF", "INSERT_POST", "SPLIT_L", "SPLIT_R"}


@dataclass
class WalWrites:
    bytes: int = 0
    fpi_bytes: int = 0
    records: int = 0
    commits: int = 0
    heap: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    index_entries: Counter[str] = field(default_factory=Counter)
    splits: Counter[str] = field(default_factory=Counter)

    def per(self, n: int) -> dict[str, Any]:
        return {
            "wal_bytes": self.bytes / n, "wal_bytes_without_fpi": (self.bytes - self.fpi_bytes) / n,
            "records": self.records / n, "commits": self.commits / n,
            "index_entries": sum(self.index_entries.values()) / n,
            "row_versions": sum(c[k] for c in self.heap.values() for k in ("insert", "update", "hot_update")) / n,
        }


def ensure_extension(cursor: Any) -> None:
    cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")


def current_lsn(cursor: Any) -> str:
    cursor.execute("SELECT pg_current_wal_insert_lsn()")
    return str(cursor.fetchone()[0])


def _relations(cursor: Any) -> dict[int, tuple[str, str]]:
    """relfilenode -> (name, the table's name): an index's table, a TOAST table's owner."""
    cursor.execute("""
        SELECT c.relfilenode, COALESCE(o.relname || ' (toast)', c.relname),
               COALESCE(t.relname, o.relname, c.relname)
          FROM pg_class c
          LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = i.indrelid
          LEFT JOIN pg_class o ON o.reltoastrelid = c.oid
         WHERE c.relfilenode <> 0""")
    return {int(node): (name, table) for node, name, table in cursor.fetchall()}


def read(cursor: Any, start: str, end: str, tables: tuple[str, ...] = ()) -> WalWrites:
    """The writes of this database between two LSNs (``end`` flushed: read after the commits).
    ``tables``: only the relations whose names start with one of these (and the commits of the
    transactions that wrote them), leaving out e.g. autovacuum's ANALYZE of the catalogs."""
    cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
    database = str(cursor.fetchone()[0])
    names = _relations(cursor)
    cursor.execute("SELECT xid::text::bigint, resource_manager, record_type, record_length, fpi_length, description, "
                   "block_ref FROM pg_get_wal_records_info(%s, %s)", [start, end])
    rows = cursor.fetchall()
    xids: set[int] = set()
    def wanted(blocks: list[tuple[str, str, str]]) -> bool:
        if not blocks or blocks[0][1] != database:
            return False
        return not tables or names.get(int(blocks[0][2]), ("", ""))[1].startswith(tables)

    for row in rows:
        blocks = _BLOCK.findall(row[6] or "")
        if wanted(blocks) and row[0]:
            xids.add(row[0])
    writes = WalWrites()
    for row in rows:
        xid, manager, kind, length, fpi, description, block_ref = row
        blocks = _BLOCK.findall(block_ref or "")
        if blocks:
            if not wanted(blocks):
                continue
        elif not (xid and xid in xids):
            continue
        writes.bytes += length
        writes.fpi_bytes += fpi or 0
        writes.records += 1
        if manager == "Transaction" and kind.startswith("COMMIT"):
            writes.commits += 1
        if not blocks:
            continue
        relation = names.get(int(blocks[0][2]), (blocks[0][2], ""))[0]
        kind = kind.removesuffix("+INIT")
        if manager == "Heap":
            key = {"INSERT": "insert", "UPDATE": "update", "HOT_UPDATE": "hot_update", "DELETE": "delete",
                   "LOCK": "lock", "CONFIRM": "confirm", "INPLACE": "inplace"}.get(kind, kind.lower())
            writes.heap[relation][key] += 1
        elif manager == "Heap2" and kind == "MULTI_INSERT":
            match = _NTUPLES.search(description or "")
            writes.heap[relation]["insert"] += int(next(g for g in match.groups() if g)) if match else 1
        elif manager == "Heap2" and kind == "LOCK_UPDATED":
            writes.heap[relation]["lock"] += 1
        elif manager == "Btree" and kind in _BTREE_ENTRY:
            writes.index_entries[relation] += 1
            if kind.startswith("SPLIT"):
                writes.splits[relation] += 1
    return writes


def report(label: str, writes: WalWrites, n: int) -> list[str]:
    per = writes.per(n)
    lines = [f"{label}: WAL {per['wal_bytes']:.0f} B per submission ({per['wal_bytes_without_fpi']:.0f} B without "
             f"full-page images), {per['records']:.1f} records, {per['commits']:.2f} commits, "
             f"{per['row_versions']:.2f} heap row versions, {per['index_entries']:.2f} index entries"]
    for relation in sorted(writes.heap):
        counts = writes.heap[relation]
        lines.append(f"    heap {relation:40s} " + ", ".join(f"{k} {v / n:.2f}" for k, v in sorted(counts.items())))
    for relation, count in sorted(writes.index_entries.items()):
        lines.append(f"    index {relation:39s} {count / n:.2f}")
    return lines
