"""A test run's closing words on what it skipped: why, and how to run those tests as well.

Without ``../shared`` beside the checkout a newcomer's first run skips every test that reads
Slack's published payloads; a row of silent ``s`` would leave them guessing. Loaded from
conftest.py (``pytest_plugins``).
"""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

import pytest

SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "slack"

FIXTURES = "slack-fixtures"
POSTGRES = "postgres"

EXPLAIN = {
    FIXTURES: (
        "need Slack's published payloads and specs (command, interaction and event bodies, Web "
        f"API responses, Block Kit views, the manifest schema), looked for in {SHARED_FIXTURES}",
        "They come from the project's shared folder, which sits beside the checkout "
        "(../shared/fixtures/slack) and is not part of the repository: the files are Slack's "
        "own data, gathered from Slack's SDK test suites and API specs (each folder's "
        "SOURCE.txt says where from). CI has that folder and fails if these tests skip; put it "
        "beside your checkout to run them too.",
    ),
    POSTGRES: (
        "need PostgreSQL, which did not answer",
        "Every database test runs on SQLite and on PostgreSQL (TEST_POSTGRES_URL, default "
        "postgresql://postgres@127.0.0.1:5432/postgres): start it, or point TEST_POSTGRES_URL "
        "at a server where this user may create databases.",
    ),
}


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _kind(reason: str) -> str:
    if "PostgreSQL" in reason:
        return POSTGRES
    if "fixtures" in reason.lower() or "manifest schema" in reason:
        return FIXTURES
    return reason


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if r.skipped]
    if not skipped:
        return
    kinds: Counter[str] = Counter()
    example: dict[str, str] = {}
    for report in skipped:
        reason = _reason(report)
        kind = _kind(reason)
        kinds[kind] += 1
        example.setdefault(kind, reason)
    total = len(skipped)
    were = "tests were" if total != 1 else "test was"
    terminalreporter.section(f"why {total} {were} skipped", sep="=", yellow=True)
    width = max(60, min(terminalreporter._tw.fullwidth, 100))
    for kind, count in kinds.most_common():
        what, why = EXPLAIN.get(kind, ("skipped", ""))
        lines = [f"{count} {what}."]
        if why:
            lines.append(why)
        lines.append(f"For example: {example[kind]}" if kind in EXPLAIN else example[kind])
        for number, paragraph in enumerate(lines):
            indent = "" if number == 0 else "  "
            terminalreporter.line(
                textwrap.fill(
                    paragraph,
                    width,
                    initial_indent=indent,
                    subsequent_indent="  ",
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
