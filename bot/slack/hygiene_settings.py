"""/hygiene settings opens the admins' cadence modal (``bot/slack/listeners/settings.py`` saves it).

Beside the listeners, not among them (they never import each other): the /hygiene listener
routes here. Anyone who is not an admin is refused before a form appears.
"""

from __future__ import annotations

from bot.errors import Forbidden
from bot.slack.blocks import settings as render
from bot.slack.deps import deps_of, workspace_of
from bot.slack.hygiene_request import HygieneRequest
from bot.slack.users import ADMIN_MAX_AGE
from bot.workspaces import service as workspaces


async def open_settings(request: HygieneRequest) -> None:
    deps, ws = deps_of(request.context), workspace_of(request.context)
    command, client = request.command, request.client
    actor = await deps.actor(client, ws, command["user_id"], max_age=ADMIN_MAX_AGE)
    if not actor.is_admin:
        raise Forbidden(code="settings.not_admin")
    async with deps.db.transaction() as session:
        current = await workspaces.cadence_for(session, ws=ws, base=deps.cadence)
        recent = await workspaces.recent_changes(session, ws=ws)
    view = render.settings_modal(current, recent=recent, team_id=ws.team_id)
    await request.ack()
    await client.views_open(trigger_id=command["trigger_id"], view=view)
