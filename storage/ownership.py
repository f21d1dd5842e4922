"""Fetching a row only for the person it belongs to.

Every listener that takes an ID from a Slack payload looks the row up through `owned`: a row
of another workspace or another person is treated exactly like a missing one, so a forged
payload learns nothing, not even whether the ID exists.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session


class _TeamRow(Protocol):
    team_id: Any


Row = TypeVar("Row", bound=_TeamRow)


def owned(session: Session, model: type[Row], row_id: int, team_id: str, **owner: str) -> Row | None:
    """`model` row `row_id` if it is in `team_id` and each `owner` column matches, else None."""
    row = session.get(model, row_id)
    if row is None or row.team_id != team_id:
        return None
    if any(getattr(row, column) != value for column, value in owner.items()):
        return None
    return row
