"""The drift guard's stored evaluation of each manager-rep pair (see `models.PairState`).

Written by the dispatch pass for the pairs it evaluated; read by the admin aggregates, which then
recompute only the pairs whose inputs changed since.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.db import insert_ignore
from storage.models import PairState


@dataclass(frozen=True)
class Evaluated:
    manager: str
    rep: str
    state: str
    breached: tuple[str, ...]
    next_eval_at: dt.datetime | None


def due_reps(session: Session, team_id: str, now: dt.datetime) -> set[str]:
    """Reps with a pair whose scheduled re-evaluation has come (ix_pair_states_next)."""
    return set(session.scalars(select(PairState.rep_id).where(
        PairState.team_id == team_id, PairState.next_eval_at <= now)))


def store(session: Session, team_id: str, rows: list[Evaluated], now: dt.datetime,
          reps: Iterable[str] | None) -> None:
    """Replace the stored states of `reps` (every rep when None) with these evaluations; a pair
    that no longer exists loses its row."""
    scope = delete(PairState).where(PairState.team_id == team_id)
    if reps is not None:
        ids = sorted(set(reps))
        if not ids and not rows:
            return
        scope = scope.where(PairState.rep_id.in_(ids))
    session.execute(scope)
    if rows:
        # A concurrent pass may have stored the same pair a moment ago: its row is as good.
        insert_ignore(session, PairState, [
            {"team_id": team_id, "manager_id": r.manager, "rep_id": r.rep, "state": r.state,
             "breached": ",".join(r.breached), "evaluated_at": now, "next_eval_at": r.next_eval_at} for r in rows])


def stored(session: Session, team_id: str) -> dict[tuple[str, str], Evaluated]:
    return {(r.manager_id, r.rep_id): Evaluated(r.manager_id, r.rep_id, r.state,
                                                tuple(s for s in r.breached.split(",") if s), r.next_eval_at)
            for r in session.execute(select(PairState.manager_id, PairState.rep_id, PairState.state,
                                            PairState.breached, PairState.next_eval_at)
                                     .where(PairState.team_id == team_id))}
