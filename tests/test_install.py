"""Installing Followthrough: what the package needs at run time, what the wheel carries, and
what a newcomer's first test run says. (.ci/run installs into fresh venvs for real.)"""

from __future__ import annotations

import ast
import fnmatch
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.process_support import ROOT, clean_env

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _name(requirement: str) -> str:
    found = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert found, requirement
    return re.sub(r"[-_.]+", "-", found[0]).lower()


def imported_modules(path: Path) -> set[str]:
    """Top-level names of everything a module imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_everything_bot_imports_is_a_runtime_dependency() -> None:
    runtime = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    dev_only = {_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["dev"]}
    distributions = importlib.metadata.packages_distributions()
    problems = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        for module in sorted(imported_modules(path) - {"bot", "__future__"}):
            if module in sys.stdlib_module_names:
                continue
            owners = {_name(d) for d in distributions.get(module, [])}
            where = path.relative_to(ROOT)
            if not owners:
                problems.append(f"{where}: imports {module}, which no installed package provides")
            elif not owners & runtime:
                extra = " (a dev extra)" if owners & dev_only else ""
                problems.append(
                    f"{where}: imports {module} from {', '.join(sorted(owners))}{extra}, "
                    "which is not in [project] dependencies"
                )
    assert problems == [], "\n".join(problems)


def test_the_package_data_covers_every_migration_file() -> None:
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["bot"]
    shipped = [
        path.relative_to(ROOT / "bot").as_posix()
        for path in (ROOT / "bot" / "migrations").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    assert any(p.startswith("migrations/versions/") for p in shipped)
    missing = [p for p in shipped if not any(fnmatch.fnmatchcase(p, g) for g in patterns)]
    assert missing == [], "add these to [tool.setuptools.package-data] so the wheel has them"


def test_alembic_from_a_checkout_uses_the_same_migrations(tmp_path: Path) -> None:
    database = tmp_path / "checkout.db"
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env=clean_env(DATABASE_URL=f"sqlite:///{database}"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    check = subprocess.run(
        [sys.executable, "-m", "alembic", "current"],
        cwd=ROOT,
        env=clean_env(DATABASE_URL=f"sqlite:///{database}"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    from bot.migrate import scripts

    assert f"{scripts().get_current_head()} (head)" in check.stdout, check.stdout + check.stderr


@pytest.mark.slow
def test_a_run_without_the_shared_folder_says_why_tests_were_skipped(tmp_path: Path) -> None:
    checkout = tmp_path / "followthrough"
    for part in ("bot", "tests"):
        shutil.copytree(ROOT / part, checkout / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "manifest.yml"):
        shutil.copy(ROOT / part, checkout / part)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_manifest.py"],
        cwd=checkout,
        env=clean_env(PYTHONPATH=str(checkout)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout.split("why ", 1)[1]
    count = int(summary.split()[0])
    assert count > 0 and f"{count} skipped" in done.stdout
    flat = " ".join(summary.split())
    assert f"{count} need Slack's published payloads and specs" in flat
    assert f"looked for in {tmp_path / 'shared' / 'fixtures' / 'slack'}" in flat
    assert "beside the checkout (../shared/fixtures/slack)" in flat
    assert "SOURCE.txt" in flat and "CI has that folder" in flat
