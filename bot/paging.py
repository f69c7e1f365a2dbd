"""One page of a list, with how many matched in all, so a view can say what it left out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """``items`` from ``offset`` on, of ``total`` matches."""

    items: list[T]
    total: int
    offset: int = 0

    @property
    def next_offset(self) -> int | None:
        end = self.offset + len(self.items)
        return end if end < self.total else None


async def page_of(
    session: AsyncSession, query: Select[T], *, limit: int, offset: int = 0
) -> Page[T]:
    """Count the matches of ``query`` and take ``limit`` of them from ``offset``."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list((await session.scalars(query.limit(limit).offset(offset))).all())
    return Page(items=items, total=int(total or 0), offset=offset)
