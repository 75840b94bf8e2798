"""Rewrite imports of the audit trail and the outbox from ``requests_app`` to their own apps.

Run from the repository root on any branch written against the old layout (idempotent)::

    .venv/bin/python scripts/move_audit_outbox_imports.py $(git ls-files '*.py')
    .venv/bin/python -m ruff check --select I --fix .

Rewrites (relative imports are resolved from the file's package):

* ``from requests_app import audit, outbox, x``  → ``from audit import trail as audit``,
  ``from outbox import relay as outbox``, ``from requests_app import x``
* ``from requests_app.audit import f``           → ``from audit.trail import f``
* ``from requests_app.outbox import f``          → ``from outbox.relay import f``
* ``from requests_app.models import AuditEvent, AuditChainHead, OutboxMessage, OutboxStatus, X``
  → ``from audit.models import ...``, ``from outbox.models import ...``, ``from requests_app.models import X``
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MODULES = {"audit": ("audit", "trail"), "outbox": ("outbox", "relay")}
MODELS = {
    "AuditEvent": "audit.models",
    "AuditChainHead": "audit.models",
    "AuditChain": "audit.models",
    "AuditSeal": "audit.models",
    "OutboxMessage": "outbox.models",
    "OutboxStatus": "outbox.models",
}
SUBMODULES = {"requests_app.audit": "audit.trail", "requests_app.outbox": "outbox.relay"}


def _package_of(path: Path) -> list[str]:
    parts = list(path.with_suffix("").parts)
    if parts[-1] == "__init__":
        return parts[:-1]
    return parts[:-1]


def _resolve(node: ast.ImportFrom, path: Path) -> str | None:
    if node.level == 0:
        return node.module
    package = _package_of(path)
    if node.level - 1 > len(package):
        return None
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _names(items: list[tuple[str, str | None]]) -> str:
    return ", ".join(n if a is None else f"{n} as {a}" for n, a in items)


def _rewrite(node: ast.ImportFrom, module: str, indent: str) -> list[str] | None:
    items = [(a.name, a.asname) for a in node.names]
    lines: list[str] = []
    keep: list[tuple[str, str | None]] = []
    if module == "requests_app":
        for name, alias in items:
            if name in MODULES:
                pkg, mod = MODULES[name]
                lines.append(f"from {pkg} import {mod} as {alias or name}")
            else:
                keep.append((name, alias))
        if len(keep) == len(items):
            return None
        if keep:
            lines.insert(0, f"from {_original(node)} import {_names(keep)}")
    elif module in SUBMODULES:
        lines.append(f"from {SUBMODULES[module]} import {_names(items)}")
    elif module == "requests_app.models":
        moved: dict[str, list[tuple[str, str | None]]] = {}
        for name, alias in items:
            if name in MODELS:
                moved.setdefault(MODELS[name], []).append((name, alias))
            else:
                keep.append((name, alias))
        if not moved:
            return None
        if keep:
            lines.append(f"from {_original(node)} import {_names(keep)}")
        for target, names in sorted(moved.items()):
            lines.append(f"from {target} import {_names(names)}")
    else:
        return None
    return [indent + line for line in lines]


def _original(node: ast.ImportFrom) -> str:
    return "." * node.level + (node.module or "")


def rewrite_file(path: Path) -> bool:
    source = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    lines = source.splitlines(keepends=True)
    edits = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        module = _resolve(node, path)
        if module is None:
            continue
        first = lines[node.lineno - 1]
        indent = first[: len(first) - len(first.lstrip())]
        new = _rewrite(node, module, indent)
        if new is not None:
            edits.append((node.lineno, node.end_lineno or node.lineno, new))
    if not edits:
        return False
    for start, end, new in sorted(edits, reverse=True):
        lines[start - 1 : end] = [line + "\n" for line in new]
    path.write_text("".join(lines), encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    changed = [p for p in map(Path, argv) if p.suffix == ".py" and p.exists() and rewrite_file(p)]
    for p in changed:
        print(f"rewrote {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
