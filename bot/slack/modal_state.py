"""Reading what people typed into our modals: input values and the metadata we stashed.

Every modal's ``private_metadata`` names the workspace it was opened for (``team``); a
submission is read only for that workspace (see bot/slack/parsing/items.py for why).
"""

from __future__ import annotations

import json
from typing import Any

from bot.errors import InvalidInput
from bot.slack.ids import INPUT
from bot.slack.parsing.items import OTHER_WORKSPACE_FORM

OUT_OF_DATE_FORM = "This form is out of date; please start again."


def view_value(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    """The state of the single input element in ``block_id`` (empty when absent)."""
    values = (view.get("state") or {}).get("values") or {}
    found = values.get(block_id) if isinstance(values, dict) else None
    element = found.get(INPUT) if isinstance(found, dict) else None
    return element if isinstance(element, dict) else {}


def view_metadata(view: dict[str, Any], *, team_id: str) -> dict[str, Any]:
    """The JSON object we put in ``private_metadata``, for a modal of workspace ``team_id``.

    ``InvalidInput`` when it is missing or not ours (an old form), or another workspace's.
    """
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict) or not data.get("team"):
        raise InvalidInput(OUT_OF_DATE_FORM)
    if data["team"] != team_id:
        raise InvalidInput(OTHER_WORKSPACE_FORM)
    return data
