"""The key every row carries: which Slack workspace (and Enterprise Grid org) it belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, String, and_
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


@dataclass(frozen=True, slots=True)
class WorkspaceKey:
    """Taken from Bolt's authorization context, never from anything a user typed."""

    team_id: str
    enterprise_id: str = ""

    def __str__(self) -> str:
        return f"{self.enterprise_id}/{self.team_id}" if self.enterprise_id else self.team_id


class WorkspaceScoped:
    """Mixin for tables whose rows belong to one workspace; ``scoped`` filters by it."""

    @declared_attr
    def enterprise_id(cls) -> Mapped[str]:
        return mapped_column(String(32), default="", server_default="")

    @declared_attr
    def team_id(cls) -> Mapped[str]:
        return mapped_column(String(32))

    @classmethod
    def in_workspace(cls, ws: WorkspaceKey) -> ColumnElement[bool]:
        return and_(
            cls.enterprise_id == ws.enterprise_id,
            cls.team_id == ws.team_id,
        )

    @staticmethod
    def key_values(ws: WorkspaceKey) -> dict[str, str]:
        return {"enterprise_id": ws.enterprise_id, "team_id": ws.team_id}


@dataclass(frozen=True, slots=True)
class Actor:
    """The person acting, with what the workspace lets them do."""

    user_id: str
    is_admin: bool = False
