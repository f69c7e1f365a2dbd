"""The App Home tab: what I owe, what waits on others, and what meetings still owe."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from slack_sdk.models.views import View

from bot.decisions.models import Decision
from bot.paging import Page
from bot.slack import limits
from bot.slack.blocks.decisions import home_section
from bot.slack.blocks.kit import Block, button, context, divider, section
from bot.slack.ids import Action

#: The sections of App Home, as "Show more" names them.
SECTIONS = ("owned", "waiting", "actions", "meetings")


@dataclass
class HomeData:
    today: date
    owned: Page[Decision] | Sequence[Decision]
    waiting: Page[Decision] | Sequence[Decision]
    extra_sections: list[list[Block]] = field(default_factory=list)
    # A short section of a fixed size (two blocks) after the decisions, outside the shares.
    follow_through: list[Block] = field(default_factory=list)
    # "Your reminders": a paragraph of the introduction and its button (no block of its own,
    # so every section keeps its ten items).
    reminders: str = ""
    reminders_button: dict[str, Any] | None = None


def section_budget(*, extra_sections: int, reserved: int = 0) -> int:
    """Blocks each section of App Home may use so that all of them fit in one view.

    ``reserved`` blocks (a fixed-size section and its divider) are set aside first.
    """
    sections = 2 + extra_sections
    # The introduction and its divider, then one divider between each two sections.
    return (limits.VIEW_BLOCKS_MAX - 2 - (sections - 1) - reserved) // sections


def home_view(data: HomeData) -> dict[str, Any]:
    intro = section(
        "*Followthrough* keeps decisions owned and meetings producing outcomes. "
        "`/decision new …` records a decision; `/decision help` shows everything."
        + (f"\n\n{data.reminders}" if data.reminders else "")
    )
    if data.reminders_button is not None:
        intro["accessory"] = data.reminders_button
    # The search box, in the place of the divider under the introduction (no block of the
    # sections' share, and the introduction's accessory stays the reminders button).
    search = section("Search the decision log: titles, context, resolutions, reasons, notes.")
    search["accessory"] = button(
        "Search decisions", action_id=Action.HOME_SEARCH, value="search"
    ).to_dict()
    blocks: list[Block] = [intro, search]
    reserved = len(data.follow_through) + 1 if data.follow_through else 0
    share = section_budget(extra_sections=len(data.extra_sections), reserved=reserved)
    blocks += home_section(
        "Decisions you own",
        data.owned,
        empty="Nothing waits on you. :sparkles:",
        today=data.today,
        budget=share,
        place="owned",
    )
    blocks.append(divider())
    blocks += home_section(
        "Waiting on others",
        data.waiting,
        empty="No decision you recorded is waiting on someone else.",
        today=data.today,
        budget=share,
        place="waiting",
    )
    if data.follow_through:
        blocks.append(divider())
        blocks += data.follow_through
    for extra in data.extra_sections:
        blocks.append(divider())
        blocks += extra[:share]
    if len(blocks) > limits.VIEW_BLOCKS_MAX:
        blocks = [*blocks[: limits.VIEW_BLOCKS_MAX - 1], context("More is not shown.")]
    return View(type="home", blocks=blocks).to_dict()
