"""What a button, menu or modal carries about the item it acts on: its workspace and number.

A value reads ``T0123ABCD:D-5`` (team id, then the item's reference). In a channel shared
between two workspaces that both installed Followthrough (Slack Connect), a message posted by
one workspace's app can be pressed by people of the other; Bolt then authorizes the press for
the presser's workspace, whose ``D-5`` is a different decision. Binding the value to the team
that owns the item lets the listener see that and refuse instead of acting on the wrong item.

Pure: values are made and read here; listeners compare the team with Bolt's authorization.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import InvalidInput

OTHER_WORKSPACE = (
    "That button belongs to Followthrough in another workspace (this channel is shared between "
    "workspaces), so it did nothing here. Your own workspace's items are in `/decision list` "
    "and `/meeting list`."
)
OTHER_WORKSPACE_FORM = (
    "This form belongs to Followthrough in another workspace, so nothing was saved here."
)


@dataclass(frozen=True, slots=True)
class ItemRef:
    team_id: str
    number: int


def item_value(team_id: str, prefix: str, number: int) -> str:
    """The value a control carries for item ``<prefix>-<number>`` of workspace ``team_id``."""
    return f"{team_id}:{prefix}-{number}"


def parse_item(raw: object, prefix: str) -> ItemRef | None:
    """``T…:<prefix>-<n>`` read back; None for anything else (an old or foreign value)."""
    team_id, sep, ref = str(raw or "").strip().partition(":")
    head, dash, digits = ref.partition("-")
    if not (sep and dash and head == prefix and team_id.isascii() and team_id.isalnum()):
        return None
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 9 and int(digits) > 0):
        return None
    return ItemRef(team_id=team_id, number=int(digits))


def item_number(raw: object, prefix: str, *, team_id: str, stale: str) -> int:
    """The number of the item ``raw`` names, which must belong to workspace ``team_id``.

    ``InvalidInput`` with ``stale`` when ``raw`` is not such a value, and with
    ``OTHER_WORKSPACE`` when it names another workspace's item.
    """
    ref = parse_item(raw, prefix)
    if ref is None:
        raise InvalidInput(stale)
    if ref.team_id != team_id:
        raise InvalidInput(OTHER_WORKSPACE)
    return ref.number
