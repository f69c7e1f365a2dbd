"""/hygiene stats, digest and export: the managers' numbers, on request.

Beside the listeners, not among them (they never import each other): the /hygiene listener
routes here.

Refusals (a bad channel, someone who is not an admin) are raised before the acknowledgement so
they become its answer; the numbers are computed after it, because checking which channels the
reader may see can take Slack longer than the three seconds an acknowledgement may.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.decisions import search
from bot.delivery import ledger
from bot.delivery.models import DeliveryStatus
from bot.digest import metrics, schedule
from bot.digest.audience import Audience
from bot.digest.export import load_export, load_follow_through, load_reported, render_export
from bot.digest.planner import DIGEST_KIND, ON_DEMAND_SUBJECT
from bot.errors import Forbidden, InvalidInput
from bot.slack import limits, searching
from bot.slack.blocks.digest import plural
from bot.slack.blocks.kit import context
from bot.slack.blocks.search import shown_search
from bot.slack.deps import Deps, deps_of, workspace_of
from bot.slack.digest_compose import (
    PUBLIC_AND_YOURS,
    channel_refused,
    compose_digest,
    compose_stats,
    conversation_for,
)
from bot.slack.hygiene_request import HygieneRequest
from bot.slack.parsing import commands as grammar
from bot.slack.privacy import ChannelAccess, is_person
from bot.slack.text import channel_mention, date_text, mention, moment_token, unescape
from bot.slack.users import ADMIN_MAX_AGE
from bot.visibility import Visibility
from bot.workspace import WorkspaceKey

#: People whose names an export looks up; beyond this it shows ids (users.info is rate limited).
EXPORT_NAME_LOOKUPS = 100


async def show_stats(request: HygieneRequest, cmd: grammar.HygieneStats) -> None:
    """The numbers for the last whole week or month (or this one so far), to the caller only."""
    deps, ws = deps_of(request.context), workspace_of(request.context)
    user_id = request.command["user_id"]
    access = ChannelAccess(request.client)
    if cmd.channel_id is not None and not await access.may_see(cmd.channel_id, user_id):
        raise channel_refused()
    await request.ack()
    text, blocks = await compose_stats(
        db=deps.db,
        cadence=await deps.cadence_for(ws),
        ws=ws,
        reader=user_id,
        client=request.client,
        now=deps.now(),
        period=cmd.period,
        so_far=cmd.so_far,
        channel_id=cmd.channel_id,
        access=access,
    )
    await request.respond(response_type="ephemeral", text=text, blocks=blocks)


async def digest_preview(request: HygieneRequest) -> None:
    """``digest preview``: the digest as it would go out now, to the caller only; sends nothing."""
    deps, ws = deps_of(request.context), workspace_of(request.context)
    user_id = request.command["user_id"]
    await request.ack()
    cadence = await deps.cadence_for(ws)
    now = deps.now()
    # The digest as it would go out at its next moment (the week running now), with the
    # numbers as they are now: not last week's, which was already sent.
    sent_at = schedule.next_digest_moment(now, cadence)
    week = schedule.reported_week(sent_at, cadence)
    digest = await compose_digest(
        db=deps.db,
        cadence=cadence,
        ws=ws,
        recipient=user_id,
        client=request.client,
        now=now,
        due_at=sent_at,
    )
    note = (
        f"Preview of the digest due {moment_token(sent_at)}, covering "
        f"{date_text(week.first_day)} – {date_text(week.last_day)}, with the numbers as they "
        "are now."
    )
    await request.respond(
        response_type="ephemeral",
        text=f"{note}\n{digest.text}",
        blocks=[context(note), *digest.blocks][: limits.MESSAGE_BLOCKS_MAX],
    )
    # An ephemeral message cannot carry a file; the chart goes to the caller's DM with the app.
    await request.client.files_upload_v2(
        channel=await conversation_for(request.client, user_id),
        content=digest.chart,
        filename=digest.chart_filename,
        title=digest.chart_title,
        initial_comment="The trend chart of your digest preview (only you were sent it).",
    )


async def send_digest_now(request: HygieneRequest) -> None:
    """Admins: send this week's digest to the configured recipients straight away."""
    deps, ws = deps_of(request.context), workspace_of(request.context)
    user_id = request.command["user_id"]
    actor = await deps.actor(request.client, ws, user_id, max_age=ADMIN_MAX_AGE)
    if not actor.is_admin:
        raise Forbidden(
            "Only workspace admins can send the digest on demand. "
            "`/hygiene digest preview` shows it to you."
        )
    cadence = await deps.cadence_for(ws)
    recipients = cadence.digest.recipients
    if not recipients:
        raise InvalidInput(
            "No one receives the digest yet: add people or channels to its recipients with "
            "`/hygiene settings`. `/hygiene digest preview` shows it to you meanwhile."
        )
    # Planned in the ledger before the ack: if this process stops now, the worker sends it.
    now = deps.now()
    planned = [
        ledger.Planned(
            ws=ws,
            kind=DIGEST_KIND,
            subject=ON_DEMAND_SUBJECT,
            recipient=recipient,
            period=f"now-{int(now.timestamp() * 1000)}",
            due_at=now,
        )
        for recipient in recipients
    ]
    async with deps.db.transaction() as session:
        await ledger.plan(session, rows=planned, now=now)
    await request.ack(
        response_type="ephemeral", text=f"Sending the digest to {_names(recipients)}…"
    )
    assert deps.outbox is not None, "the web app is built by bot.server.wire"
    rows = await deps.outbox.deliver_planned(ws, planned)
    sent = [row.recipient for row in rows if row.status == DeliveryStatus.SENT]
    failed = [
        f"{_names([row.recipient])} ({(row.last_error or 'error').split(':')[0]})"
        for row in rows
        if row.status == DeliveryStatus.FAILED
    ]
    later = [row.recipient for row in rows if row.status == DeliveryStatus.PENDING]
    summary = f"Sent the digest to {_names(sent)}." if sent else "The digest was not sent."
    if failed:
        summary += " Could not reach: " + ", ".join(failed) + "."
    if later:
        summary += f" Slack did not take it for {_names(later)} yet; I'll try again shortly."
    await request.respond(response_type="ephemeral", text=summary)


async def export(request: HygieneRequest, cmd: grammar.HygieneExport | None = None) -> None:
    """Admins: decisions, meetings and outcomes as CSV files, in the caller's DM.

    With a search (``/hygiene export search …``), only the decisions it finds, with their
    history: the same search, filters and privacy rule as `/decision search`, every match.
    """
    deps, ws = deps_of(request.context), workspace_of(request.context)
    client, user_id = request.client, request.command["user_id"]
    wanted = cmd.search if cmd is not None else None
    # Bad search syntax is refused before anything else happens.
    query = search.parse_query(unescape(wanted.words)) if wanted is not None else None
    actor = await deps.actor(client, ws, user_id, max_age=ADMIN_MAX_AGE)
    if not actor.is_admin:
        raise Forbidden(
            "Only workspace admins can export. Ask one of them to run `/hygiene export`."
        )
    await request.ack(
        response_type="ephemeral",
        text="Preparing the export; the files will arrive in your DM with me shortly.",
    )
    cadence = await deps.cadence_for(ws)
    access = ChannelAccess(client)
    async with deps.db.transaction() as session:
        in_play = await metrics.channels_in_play(session, ws=ws)
    visible = await access.readable(in_play, user_id)
    # The exporter's own DM items are in it; nobody else's (bot/digest/audience.py).
    audience = Audience(frozenset(visible), person=user_id)
    now = deps.now()
    async with deps.db.transaction() as session:
        if wanted is not None and query is not None:
            only = search.matching_select(
                session,
                ws=ws,
                query=query,
                status=searching.status_of(wanted),
                channel_id=wanted.channel_id,
                person_id=wanted.person_id,
                visible=Visibility(reader=user_id, channels=frozenset(visible)),
            )
            data = await load_export(session, ws=ws, channels=audience, only=only)
        else:
            data = await load_export(session, ws=ws, channels=audience)
            data.reported = await load_reported(
                session, ws=ws, cadence=cadence, channels=audience, now=now
            )
            data.follow_through = await load_follow_through(
                session, ws=ws, cadence=cadence, channels=audience, now=now
            )
    data.people.update(r.recipient for r, _ in data.reported if is_person(r.recipient))
    files = render_export(
        data,
        zone=cadence.zone,
        today=now.astimezone(cadence.zone).date(),
        people=await _people(deps, client, ws, data.people),
        channel_names={c: name for c in visible if (name := access.name(c))},
        decisions_only=wanted is not None,
    )
    history = f"{'its' if len(data.decisions) == 1 else 'their'} history"
    if wanted is not None:
        summary = (
            f"Followthrough export: {plural(len(data.decisions), 'decision')} matching "
            f"{shown_search(unescape(wanted.words))}, with {history}. "
        )
    else:
        summary = (
            f"Followthrough export: {plural(len(data.decisions), 'decision')} with {history}, "
            f"{plural(len(data.meetings), 'meeting')} and "
            f"{plural(len(data.outcomes), 'outcome')}"
            + (
                f", and {plural(len(data.reported), 'digest')} as reported and as now. "
                if data.reported
                else ". "
            )
        )
    await client.files_upload_v2(
        channel=await conversation_for(client, user_id),
        file_uploads=[
            {"content": f.content, "filename": f.filename, "title": f.title} for f in files
        ],
        initial_comment=summary + f"{PUBLIC_AND_YOURS} Times are in {cadence.timezone}.",
    )


async def _people(
    deps: Deps, client: AsyncWebClient, ws: WorkspaceKey, user_ids: set[str]
) -> dict[str, str]:
    names: dict[str, str] = {}
    for user_id in sorted(user_ids)[:EXPORT_NAME_LOOKUPS]:
        user = await deps.user(client, ws, user_id)
        if user.name:
            names[user_id] = user.name
    return names


def _names(recipients: list[str]) -> str:
    return ", ".join(mention(r) if is_person(r) else channel_mention(r) for r in recipients)
