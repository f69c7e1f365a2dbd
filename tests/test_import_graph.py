"""The layering holds in the import graph, read from the source (every import, at any depth).

- Domain packages never import the Slack layer, slack_sdk or slack_bolt, not even through
  another module of ``bot`` (the check follows ``bot.*`` imports transitively).
- No module under ``bot/slack/listeners/`` imports another listener module; the package's
  ``__init__`` (the registry that calls every ``register``) is the one exception. What several
  listeners share lives beside them in ``bot/slack/`` (``home_publish``, ``meeting_messages``,
  ``privacy``, ``hygiene_request``, ...).
- No listener reads the workspace from the payload: the key comes from Bolt's context
  (``workspace_of(context)``), which Bolt's authorization filled.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"
DOMAIN_PACKAGES = (
    "decisions",
    "meetings",
    "nudges",
    "digest",
    "cadence",
    "workspaces",
    "delivery",
    "prefs",
    "timeoff",
)
FORBIDDEN_IN_DOMAIN = ("bot.slack", "slack_sdk", "slack_bolt")
LISTENERS = "bot.slack.listeners"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(BOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(BOT.rglob("*.py")) if "migrations" not in p.parts}


def imported_names(name: str, path: Path) -> Iterator[str]:
    """Every module ``path`` imports, at any depth (inside functions and TYPE_CHECKING too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    yield from _names_in_source(path.read_text(encoding="utf-8"), package, filename=str(path))


def _names_in_source(source_text: str, package: str, *, filename: str = "<test>") -> Iterator[str]:
    for node in ast.walk(ast.parse(source_text, filename=filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            yield source
            for alias in node.names:  # `from bot.slack.listeners import home` names a module
                yield f"{source}.{alias.name}"


def bot_imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    return {i for i in imported_names(name, path) if i in modules and i != name}


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_the_graph_reader_sees_the_imports_it_must() -> None:
    modules = all_modules()
    home = bot_imports(f"{LISTENERS}.home", modules[f"{LISTENERS}.home"], modules)
    hygiene = bot_imports(f"{LISTENERS}.hygiene", modules[f"{LISTENERS}.hygiene"], modules)
    registry = bot_imports(LISTENERS, modules[LISTENERS], modules)
    assert "bot.slack.blocks.home" in home  # from bot.slack.blocks.home import …
    assert "bot.slack.hygiene_stats" in hygiene  # from bot.slack import hygiene_stats, …
    assert f"{LISTENERS}.home" in registry  # from bot.slack.listeners import (…, home, …)
    assert "bot.slack.parsing.commands" in hygiene  # from bot.slack.parsing import commands
    # An import inside a function counts as much as one at the top.
    inner = "def f():\n    from bot.slack.listeners.home import publish_home\n"
    assert "bot.slack.listeners.home" in set(_names_in_source(inner, "bot.slack.listeners.x"))


def test_domain_packages_never_reach_slack() -> None:
    modules = all_modules()
    problems = []
    for package in DOMAIN_PACKAGES:
        for start in (m for m in modules if within(m, f"bot.{package}")):
            # Follow bot.* imports from here; report the first path into a forbidden module.
            seen = {start}
            paths = {start: [start]}
            queue = [start]
            while queue:
                current = queue.pop(0)
                for imported in imported_names(current, modules[current]):
                    bad = next((f for f in FORBIDDEN_IN_DOMAIN if within(imported, f)), None)
                    if bad is not None:
                        problems.append(" -> ".join([*paths[current], imported]))
                    elif imported in modules and imported not in seen:
                        seen.add(imported)
                        paths[imported] = [*paths[current], imported]
                        queue.append(imported)
    assert not problems, "domain code reaches the Slack layer:\n" + "\n".join(sorted(problems))


def test_listener_modules_do_not_import_each_other() -> None:
    modules = all_modules()
    found = set()
    for name, path in modules.items():
        if not within(name, LISTENERS) or name == LISTENERS:
            continue
        for imported in bot_imports(name, path, modules):
            if within(imported, LISTENERS) and imported != LISTENERS:
                found.add((name.rsplit(".", 1)[1], imported.removeprefix(LISTENERS + ".")))
    assert not found, "listener modules import each other: " + ", ".join(
        f"{a} -> {b}" for a, b in sorted(found)
    )


#: Reading the workspace out of a payload rather than Bolt's context.
PAYLOAD_WORKSPACE = re.compile(
    r"""(body|payload|event|command)\s*(\.get\(\s*|\[\s*)["'](team|enterprise|team_id|enterprise_id)["']"""
)


def test_listeners_take_the_workspace_from_bolts_context() -> None:
    assert PAYLOAD_WORKSPACE.search('team = (body.get("team") or {}).get("id")')
    assert PAYLOAD_WORKSPACE.search("ws = command['team_id']")
    assert not PAYLOAD_WORKSPACE.search("ws = workspace_of(context)")
    problems = [
        f"{path.name}:{number}: {line.strip()}"
        for name, path in all_modules().items()
        if within(name, LISTENERS)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PAYLOAD_WORKSPACE.search(line) or "workspace_of_body" in line
    ]
    assert not problems, "a listener reads the workspace from the payload:\n" + "\n".join(problems)


def test_cadence_is_pure_calendar_arithmetic() -> None:
    """bot.cadence knows no SQL and no other domain package: the stall rule's SQL lives with
    the decisions (``bot.decisions.stall``), and services take plain values from cadence."""
    modules = all_modules()
    others = tuple(f"bot.{p}" for p in DOMAIN_PACKAGES if p != "cadence")
    problems = []
    for name, path in modules.items():
        if not within(name, "bot.cadence"):
            continue
        for imported in imported_names(name, path):
            if within(imported, "sqlalchemy") or any(within(imported, o) for o in others):
                problems.append(f"{name} imports {imported}")
    assert not problems, "bot.cadence is not pure:\n" + "\n".join(sorted(problems))
    # The check would see such an import.
    stray = "from bot.decisions.service import stalled_clause\nimport sqlalchemy\n"
    seen = set(_names_in_source(stray, "bot.cadence"))
    assert "bot.decisions.service" in seen and "sqlalchemy" in seen
