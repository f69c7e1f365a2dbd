"""The layering holds in the import graph, read from the source (every import, at any depth).

- Domain packages never import the Slack layer, slack_sdk or slack_bolt, not even through
  another module of ``bot`` (the check follows ``bot.*`` imports transitively).
- No module under ``bot/slack/listeners/`` imports another listener module; the package's
  ``__init__`` (the registry that calls every ``register``) is the one exception. The cross
  imports that exist today are listed in ``KNOWN_LISTENER_IMPORTS``, which may only shrink.
"""

from __future__ import annotations

import ast
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

#: Listener → listener imports present when this check was written (issue 14 point 1 removes
#: them). A new one fails the test; one that is gone must be taken off this list.
KNOWN_LISTENER_IMPORTS = frozenset(
    {
        ("decisions", "home"),  # publish_home, imported inside a function to dodge the cycle
        ("decisions", "outcomes"),  # a follow-through action's card (issue 17), inside a function
        ("hygiene", "settings"),  # /hygiene routes to the settings modal
        ("hygiene", "stats"),  # … and to the numbers, with HygieneRequest
        ("meetings", "home"),  # publish_home, inside a function
        ("outcomes", "meetings"),
        ("settings", "stats"),  # HygieneRequest
    }
)


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
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
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
    decisions = bot_imports(f"{LISTENERS}.decisions", modules[f"{LISTENERS}.decisions"], modules)
    assert "bot.slack.blocks.home" in home  # from bot.slack.blocks.home import …
    assert f"{LISTENERS}.stats" in hygiene  # from bot.slack.listeners import settings, stats
    assert f"{LISTENERS}.home" in decisions  # an import inside a function
    assert "bot.slack.parsing.commands" in hygiene  # from bot.slack.parsing import commands


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
    print("allowed for now (issue 14 point 1 removes them):")
    for importer, imported in sorted(KNOWN_LISTENER_IMPORTS):
        still = "" if (importer, imported) in found else "  (gone: take it off the list)"
        print(f"  listeners/{importer}.py imports listeners/{imported}.py{still}")
    new = sorted(found - KNOWN_LISTENER_IMPORTS)
    gone = sorted(KNOWN_LISTENER_IMPORTS - found)
    assert not new, "listener modules import each other: " + ", ".join(
        f"{a} -> {b}" for a, b in new
    )
    assert not gone, "no longer imported, take off KNOWN_LISTENER_IMPORTS: " + ", ".join(
        f"{a} -> {b}" for a, b in gone
    )
