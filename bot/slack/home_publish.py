"""Publishing a reader's App Home tab, which every surface that changes it re-publishes.

Beside the listeners, not among them (they never import each other): the Home tab's own
listener publishes it when it is opened, and decision, meeting and action buttons pressed on it
publish it again after their change.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.cadence.stall import activity_cutoff, working_calendar
from bot.decisions import followthrough, reviews
from bot.decisions import service as decisions
from bot.meetings import service as meetings
from bot.prefs import service as prefs
from bot.slack.blocks import decisions as decision_blocks
from bot.slack.blocks import meetings as meeting_blocks
from bot.slack.blocks import prefs as prefs_blocks
from bot.slack.blocks import reviews as review_blocks
from bot.slack.blocks.home import SECTIONS, HomeData, home_view, section_budget
from bot.slack.blocks.kit import divider
from bot.slack.deps import Deps
from bot.workspace import WorkspaceKey

#: Items a meetings section shows at once (two blocks each, like decisions).
MEETINGS_AT_ONCE = 10


async def publish_home(
    client: AsyncWebClient,
    deps: Deps,
    ws: WorkspaceKey,
    user_id: str,
    *,
    offsets: dict[str, int] | None = None,
) -> None:
    """The reader's tab: each section counted and cut in SQL over what they may see.

    ``offsets`` starts a section further on ("Show more"); the others start at the top.
    """
    at = {place: (offsets or {}).get(place, 0) for place in SECTIONS}
    cadence = await deps.cadence_for(ws)
    zone = await deps.user_zone(client, ws, user_id)
    # App Home has no conversation of its own: every item must pass the privacy rule on its own.
    visible = await deps.visibility(client, ws, user_id)
    async with deps.db.transaction() as session:
        owned, waiting = await decisions.home_decisions(
            session,
            ws=ws,
            visible=visible,
            owned_offset=at["owned"],
            waiting_offset=at["waiting"],
        )
        actions = await meetings.open_actions_of(
            session, ws=ws, owner_id=user_id, visible=visible, offset=at["actions"]
        )
        # Decisions of the reader's own: visible to them whatever their conversation.
        follow = await followthrough.waiting_on_follow_through(session, ws=ws, owner_id=user_id)
        due_reviews = await reviews.reviews_due(
            session, ws=ws, owner_id=user_id, today=deps.now().astimezone(zone).date()
        )
        owed = await meetings.meetings_owing_outcomes(
            session,
            ws=ws,
            organizer_id=user_id,
            visible=visible,
            limit=MEETINGS_AT_ONCE,
            offset=at["meetings"],
        )
        mine = await prefs.get(session, ws=ws, user_id=user_id)
    hours = cadence.working_hours
    paused_now = prefs.paused_at(mine, deps.now(), zone, hours) is not None
    today = deps.now().astimezone(zone).date()
    # Sections of a fixed size (two blocks) after a divider each: follow-through always,
    # reviews due only when there are some (so the paged sections keep their ten otherwise).
    fixed = decision_blocks.home_follow_through_section(
        follow,
        orphaned_up_to=activity_cutoff(
            deps.now(), working_calendar(cadence), cadence.decisions.followthrough_after_days
        ),
        after_days=cadence.decisions.followthrough_after_days,
    )
    if due_reviews:
        fixed += [divider(), *review_blocks.home_reviews_section(due_reviews)]
    budget = section_budget(extra_sections=2, reserved=len(fixed) + 1)
    data = HomeData(
        today=today,
        owned=owned,
        waiting=waiting,
        follow_through=fixed,
        extra_sections=[
            meeting_blocks.home_actions_section(actions, today=today, budget=budget),
            meeting_blocks.home_meetings_section(owed, budget=budget),
        ],
        reminders=prefs_blocks.home_text(mine, hours, paused_now=paused_now),
        reminders_button=prefs_blocks.home_button(),
    )
    await client.views_publish(user_id=user_id, view=home_view(data))
