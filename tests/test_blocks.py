"""Rendered Block Kit stays within Slack's limits for any data, and user text stays inert."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.decisions.models import Decision, DecisionEvent
from bot.devtools.blockkit_checks import check_blocks, check_view
from bot.slack.blocks import decisions as render
from bot.slack.blocks.home import HomeData, home_view

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
hostile = st.lists(
    st.sampled_from([*"ab <>&|!@#*_~`:\n", "<!channel>", "<!here>", "<http://x|y>", "&amp;"]),
    min_size=1,
    max_size=120,
).map("".join)


def make_decision(
    number: int, title: str, *, text: str = "", status: str = "open", events: int = 1
) -> Decision:
    d = Decision(
        id=number,
        enterprise_id="",
        team_id="T1",
        number=number,
        title=title,
        context=text or None,
        owner_id="U2",
        creator_id="U1",
        channel_id="C1",
        status=status,
        resolution=text or None,
        drop_reason=text or None,
        due_date=date(2026, 11, 20),
        created_at=NOW,
        updated_at=NOW,
        last_activity_at=NOW,
        source_permalink="https://example.slack.com/archives/C1/p1",
        events=[],
    )
    for i in range(events):
        d.events.append(
            DecisionEvent(
                actor_id="U1",
                action="decided" if i % 2 else "assigned",
                detail={"from": "U1", "to": "U2", "resolution": text},
                at=NOW,
            )
        )
    return d


@settings(max_examples=60, deadline=None)
@given(
    title=hostile,
    text=hostile,
    status=st.sampled_from(["open", "decided", "dropped"]),
    events=st.integers(0, 300),
)
def test_cards_and_details_fit_and_stay_inert(
    title: str, text: str, status: str, events: int
) -> None:
    d = make_decision(1, title[:200], text=text * 5, status=status, events=events)
    card = render.decision_card(d, today=date(2026, 11, 23))
    detail = render.decision_detail(d, zone=ZoneInfo("Europe/Berlin"), today=date(2026, 11, 23))
    for blocks in (card, detail):
        assert check_blocks(blocks, surface="message") == []
        flat = str(blocks)
        # A typed link stays a link (issue 16); a broadcast never goes out live. The app's own
        # date tokens are the one "<!" allowed.
        assert "<!" not in flat.replace("<!date^", "")
    assert "<!" not in render.card_fallback_text(d)


@settings(max_examples=20, deadline=None)
@given(count=st.integers(0, 400), title=hostile)
def test_lists_and_home_fit_for_any_amount(count: int, title: str) -> None:
    many = [make_decision(i + 1, title[:200]) for i in range(count)]
    listing = render.decision_list(many, title="All", empty="none", today=date(2026, 11, 23))
    assert check_blocks(listing, surface="message") == []
    home = home_view(HomeData(today=date(2026, 11, 23), owned=many, waiting=many))
    assert check_view(home) == []


def test_modals_fit() -> None:
    modal = render.new_decision_modal(
        team_id="T1", channel_id="C1", owner_id="U1", title="x" * 500, context_text="y" * 5000
    )
    assert check_view(modal) == []
    assert (
        check_view(render.decide_modal(make_decision(7, "z" * 200), origin={"channel_id": "C1"}))
        == []
    )
