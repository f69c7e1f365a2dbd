"""Fail CI when the PostgreSQL half of the suite, or a Slack-fixture test, did not really run."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def main(report: str) -> int:
    cases = ET.parse(report).getroot().iter("testcase")
    ran_on_postgres = 0
    problems = []
    for case in cases:
        name = f"{case.get('classname')}::{case.get('name')}"
        skipped = case.find("skipped")
        on_postgres = "postgres" in (case.get("name") or "")
        if skipped is None:
            ran_on_postgres += on_postgres
            continue
        reason = skipped.get("message") or ""
        if on_postgres or "PostgreSQL" in reason:
            problems.append(f"PostgreSQL test skipped: {name}: {reason}")
        elif "fixtures" in reason.lower():
            problems.append(f"Slack-fixture test skipped: {name}: {reason}")
    if ran_on_postgres == 0:
        problems.append("no test ran on PostgreSQL")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{ran_on_postgres} tests ran on PostgreSQL; {len(problems)} skip problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
