"""Reading what people typed into our modals: input values and the metadata we stashed."""

from __future__ import annotations

import json
from typing import Any

from bot.slack.ids import INPUT


def view_value(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    """The state of the single input element in ``block_id`` (empty when absent)."""
    values = (view.get("state") or {}).get("values") or {}
    return values.get(block_id, {}).get(INPUT, {}) or {}


def view_metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The JSON object we put in ``private_metadata``; empty when it is missing or not ours."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}
