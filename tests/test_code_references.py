"""Comments and docstrings name functions that exist.

A function that moves leaves comments behind that still point to it: on 972af46
requests_app/notifications.py named ``review._copy_to_enforcing_authority`` (since moved to
``services.enforcing_authority_copy.copy_to_enforcing_authority``) and requests_app/provider.py
``tasks.recompute_if_config_changed`` (never a task; the deadlines are recomputed by
``services.deadlines.recompute_stale``). Every ``module.name`` written in double backquotes in
the project's Python files is resolved here against the project's modules (as imported, or
under the alias the file imports it as): where the module part names a project module, the
last part must be defined in it. References to anything else (settings, audit event names,
fields) name no project module and are not checked. Reads source files only: no clock, no
database.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

from django.conf import settings

BASE = Path(settings.BASE_DIR)
PACKAGES = ("requests_app", "accounts", "audit", "outbox", "portal")
REFERENCE = re.compile(r"``((?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*)(?:\(\))?``")
NOT_PROJECT_NAMES = {
    "admin.site": "django.contrib.admin's site",
    "dsa.legal_basis": "a field of the API's request body",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(BASE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def string_literals() -> frozenset[str]:
    """Every string constant of the project: ``access.denied`` is an audit event's name, not a
    reference to a function."""
    return frozenset(
        node.value for path in modules().values() for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


@cache
def modules() -> dict[str, Path]:
    return {_module_name(path): path for package in PACKAGES for path in (BASE / package).rglob("*.py")}


@cache
def defined(module: str) -> frozenset[str]:
    """The names a module defines or imports at any level (functions, classes, assignments),
    and its submodules."""
    tree = ast.parse(modules()[module].read_text(encoding="utf-8"))
    names: set[str] = {m.rsplit(".", 1)[-1] for m in modules() if m.startswith(module + ".")}
    if f"{module}.models" in modules():  # ``outbox.OutboxMessage``: a model by its app label
        names |= defined(f"{module}.models")
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return frozenset(names)


def _aliases(path: Path) -> dict[str, str]:
    """``from audit import trail as audit`` -> {"audit": "audit.trail"} (relative imports resolved)."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    out = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - node.level + 1] if node.level else []
            origin = ".".join([*base, *(node.module.split(".") if node.module else [])])
            for alias in node.names:
                out[alias.asname or alias.name] = f"{origin}.{alias.name}"
    return out


def unresolved(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    aliases = _aliases(path)
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        for match in REFERENCE.finditer(line):
            if match.group(1) in NOT_PROJECT_NAMES or match.group(1) in string_literals():
                continue
            parts = match.group(1).split(".")
            # An alias (``from audit import trail as audit``) unless the name is already a full
            # module path (``audit.trail.instant`` in that same module).
            if parts[0] in aliases and ".".join(parts[:2]) not in modules():
                parts = [*aliases[parts[0]].split("."), *parts[1:]]
            for cut in range(len(parts) - 1, 0, -1):
                tail = ".".join(parts[:cut])
                candidates = [m for m in modules() if m == tail or m.endswith("." + tail)]
                if candidates:
                    if not any(parts[cut] in defined(m) for m in candidates):
                        problems.append(f"{path.relative_to(BASE)}:{number}: ``{match.group(1)}``")
                    break
    return problems


def test_the_check_finds_a_moved_function(tmp_path: Path) -> None:
    assert "_copy_to_enforcing_authority" not in defined("requests_app.services.review")
    assert "copy_to_enforcing_authority" in defined("requests_app.services.enforcing_authority_copy")
    assert "record" in defined("audit.trail")


def test_comments_and_docstrings_name_what_exists() -> None:
    problems = [p for path in sorted(modules().values()) for p in unresolved(path)]
    assert not problems, "references to names that do not exist (moved or renamed?):\n" + "\n".join(problems)
