"""/hygiene settings: the admins' cadence modal, saved per workspace and audited.

The /hygiene listener opens it (``bot.slack.hygiene_settings``); this module saves it.

Workspace admins and owners (Slack's users.info) and the admins named in the cadence file may
open and save it; anyone else is refused before a form appears, and again on save, since a
submission is only as trustworthy as the person sending it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.cadence.config import InvalidSettings, setting_problems
from bot.errors import Forbidden, UserError
from bot.slack.blocks import settings as render
from bot.slack.deps import deps_of, workspace_of
from bot.slack.errors import FormError
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.slack.modal_state import view_metadata
from bot.slack.users import ADMIN_MAX_AGE
from bot.slack.wording import words_for
from bot.workspaces import service as workspaces


def register(app: AsyncApp) -> None:
    app.view(ViewId.SETTINGS)(settings_submitted)


async def settings_submitted(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    actor = await deps.actor(client, ws, body["user"]["id"], max_age=ADMIN_MAX_AGE)
    if not actor.is_admin:
        refusal = Forbidden(code="settings.not_admin")
        raise FormError({BlockId.SETTINGS_TIMEZONE: words_for(refusal)})
    shown = _shown(view_metadata(view, team_id=ws.team_id))
    form = render.read_settings((view.get("state") or {}).get("values") or {})
    if form.errors:
        # The fields that could be read are checked too, so the admin sees every problem at once.
        async with deps.db.transaction() as session:
            current = await workspaces.cadence_for(session, ws=ws, base=deps.cadence)
        raise FormError({**_beside_fields(setting_problems(current, form.values)), **form.errors})
    # Only what this admin edited is saved, so a form left open never undoes a change another
    # admin made in the meantime.
    edited = {
        key: value
        for key, value in form.values.items()
        if render.fingerprint(key, value) != shown.get(key)
    }
    try:
        async with deps.db.transaction() as session:
            changes = await workspaces.save_settings(
                session, ws=ws, actor=actor, base=deps.cadence, values=edited, now=deps.now()
            )
            current = await workspaces.cadence_for(session, ws=ws, base=deps.cadence)
    except InvalidSettings as exc:
        raise FormError(_beside_fields(exc.problems)) from exc
    except UserError as exc:
        raise FormError({BlockId.SETTINGS_TIMEZONE: words_for(exc)}) from exc
    await ack(response_action="update", view=render.saved_view(changes, current))


def _beside_fields(problems: Mapping[str, str]) -> dict[str, str]:
    """Problems by setting key, each put beside its field (the first one of a two-part setting)."""
    return {
        render.KEY_BLOCKS.get(key, BlockId.SETTINGS_TIMEZONE): why for key, why in problems.items()
    }


def _shown(meta: dict[str, Any]) -> dict[str, str]:
    shown = meta.get("shown")
    return {str(k): str(v) for k, v in shown.items()} if isinstance(shown, dict) else {}
