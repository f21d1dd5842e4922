"""Drift-guard storage: who a manager may ask, the touch budget, ad-hoc questions, and warnings.
The drift history itself is built in `storage.guard_history`.

Functions take a `Session`; the caller owns the transaction. Every state change that could race (a
double-clicked button, two dispatch passes) is a conditional UPDATE or an insert guarded by a unique
key, and reports whether it won.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from coaching.drift import PriorWarning, Signal
from storage.changes import touch_reps
from storage.db import insert_ignore
from storage.models import (
    CheckIn,
    CheckInKind,
    CheckInState,
    ManagerQuestion,
    Membership,
    Team,
    User,
    WarningClaim,
    WarningSent,
)
from storage.ownership import owned
from storage.people import reps_of_manager
from storage.schedules import insert_checkin_once

# What counts against a rep's weekly budget: scheduled check-ins and managers' ad-hoc questions.
# A rep's own `/checkin now` (kind "rep_now") and reminders never do.
TOUCH_KINDS = ("scheduled", "adhoc")
BUDGET_WINDOW = dt.timedelta(days=7)


# ---- Who manages whom -----------------------------------------------------------------------------

def _parked(session: Session, team_id: str) -> set[str]:
    return set(session.scalars(select(User.slack_id).where(User.team_id == team_id, User.parked_reason.is_not(None))))


def manager_reps(session: Session, team_id: str, manager_id: str, reachable_only: bool = False) -> list[str]:
    """The manager's active reps (config teams are synced when the bot starts).

    `reachable_only` leaves out reps Slack can't reach (parked: deactivated, or gone): there is
    nothing to coach, so the health report and the drift guard skip them.
    """
    reps = reps_of_manager(session, team_id, manager_id)
    if reachable_only:
        parked = _parked(session, team_id)
        reps = [r for r in reps if r not in parked]
    return reps


def all_pairs(session: Session, team_id: str) -> list[tuple[str, str]]:
    """Every (manager, rep) pair with an active membership, parked reps left out (see manager_reps)."""
    rows = session.execute(
        select(Team.manager_id, Membership.rep_id).join(Membership, Membership.team_pk == Team.id)
        .where(Team.team_id == team_id, Membership.status == "active")
    )
    parked = _parked(session, team_id)
    return sorted({(m, r) for m, r in rows if m != r and r not in parked})


def pairs_of(session: Session, team_id: str, reps: Iterable[str]) -> list[tuple[str, str]]:
    """`all_pairs`, for these reps only."""
    ids = sorted(set(reps))
    if not ids:
        return []
    rows = session.execute(
        select(Team.manager_id, Membership.rep_id).join(Membership, Membership.team_pk == Team.id)
        .where(Team.team_id == team_id, Membership.status == "active", Membership.rep_id.in_(ids))
    )
    parked = set(session.scalars(select(User.slack_id).where(
        User.team_id == team_id, User.slack_id.in_(ids), User.parked_reason.is_not(None))))
    return sorted({(m, r) for m, r in rows if m != r and r not in parked})


# ---- The touch budget -----------------------------------------------------------------------------

def touches_last_week(session: Session, team_id: str, rep_id: str, now: dt.datetime) -> int:
    """Scheduled check-ins and ad-hoc questions the rep was sent in the last 7 days, from any manager."""
    return int(session.scalar(
        select(func.count()).select_from(CheckIn)
        .where(CheckIn.team_id == team_id, CheckIn.rep_id == rep_id, CheckIn.kind.in_(TOUCH_KINDS),
               CheckIn.sent_at > now - BUDGET_WINDOW, CheckIn.sent_at <= now)
    ) or 0)


# ---- Ad-hoc questions -----------------------------------------------------------------------------

def add_question(session: Session, team_id: str, manager_id: str, rep_id: str, text: str, label: str,
                 suggestion: str | None, hold_reasons: list[str], now: dt.datetime,
                 confidence: float | None = None) -> ManagerQuestion:
    """Store a question as held; the caller sends it at once (claim_question) when nothing holds it."""
    question = ManagerQuestion(team_id=team_id, manager_id=manager_id, rep_id=rep_id, text=text, label=label,
                               tone_confidence=confidence, suggestion=suggestion, status="held",
                               hold_reasons=",".join(hold_reasons) or None, overridden=False,
                               used_suggestion=False, created_at=now)
    session.add(question)
    session.flush()
    return question


def own_question(session: Session, team_id: str, manager_id: str, question_id: int) -> ManagerQuestion | None:
    """The question if this manager asked it; another's is treated exactly like a missing one."""
    return owned(session, ManagerQuestion, question_id, team_id, manager_id=manager_id)


def hold_reasons(question: ManagerQuestion) -> list[str]:
    return [r for r in (question.hold_reasons or "").split(",") if r]


def _changed(result: object) -> bool:
    return bool(getattr(result, "rowcount", 0))


def claim_question(session: Session, question_id: int, now: dt.datetime, overridden: bool,
                   used_suggestion: bool) -> bool:
    """held -> sent, only if still held: a double click or a second process sends nothing twice."""
    won = _changed(session.execute(
        update(ManagerQuestion).where(ManagerQuestion.id == question_id, ManagerQuestion.status == "held")
        # sent_at stays empty until the rep really receives it (question_delivered).
        .values(status="sent", sent_at=None, overridden=overridden, used_suggestion=used_suggestion)
        .execution_options(synchronize_session=False)))
    _touch_question(session, question_id)
    return won


def _touch_question(session: Session, question_id: int) -> None:
    """A question sent (or taken back) is a touch the drift guard must see."""
    row = session.execute(select(ManagerQuestion.team_id, ManagerQuestion.rep_id)
                          .where(ManagerQuestion.id == question_id)).first()
    if row is not None:
        touch_reps(session, row.team_id, [row.rep_id])


def release_question(session: Session, question_id: int) -> None:
    """Slack refused the DM: the question is held again, as if the click never happened."""
    session.execute(
        update(ManagerQuestion).where(ManagerQuestion.id == question_id, ManagerQuestion.status == "sent")
        .values(status="held", sent_at=None, overridden=False, used_suggestion=False)
        .execution_options(synchronize_session=False))
    _touch_question(session, question_id)


def cancel_question(session: Session, question_id: int, used_suggestion: bool = False) -> bool:
    """held -> cancelled. `used_suggestion` records a manager who took the advice to wait."""
    return _changed(session.execute(
        update(ManagerQuestion).where(ManagerQuestion.id == question_id, ManagerQuestion.status == "held")
        .values(status="cancelled", used_suggestion=used_suggestion)
        .execution_options(synchronize_session=False)))


def open_adhoc_checkin(session: Session, team_id: str, rep_id: str, manager_id: str, question_id: int,
                       prompt: str, now: dt.datetime) -> int:
    """The check-in row a sent question becomes, so the rep answers it like any check-in.

    Its outbox row (a `manager_question`) is written with it; the question's own id is its key.
    """
    checkin_id = insert_checkin_once(session, {
        "team_id": team_id, "rep_id": rep_id, "kind": CheckInKind.ADHOC, "due_at": now, "ref": question_id,
        "state": CheckInState.SCHEDULED, "attempts": 0, "snooze_count": 0, "prompt": prompt, "created_at": now,
    }, payload={"manager": manager_id, "question_id": question_id})
    if checkin_id is None:
        raise RuntimeError(f"question {question_id} already has its check-in")
    return checkin_id


def question_delivered(session: Session, question_id: int, channel: str | None, ts: str | None,
                       sent_at: dt.datetime) -> None:
    """The question reached the rep: from now on it counts as a touch, from the moment it landed."""
    session.execute(update(ManagerQuestion).where(ManagerQuestion.id == question_id)
                    .values(channel=channel, message_ts=ts, sent_at=sent_at).execution_options(synchronize_session=False))


# ---- Warnings -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Prior:
    warning_id: int
    prior: PriorWarning


def warning_priors(session: Session, team_id: str, since: dt.datetime) -> dict[tuple[str, str, str], Prior]:
    """The latest warning per (manager, rep, signal) sent after `since`.

    Older ones need not be read: past twice the cooldown `should_warn` treats a prior like none.
    """
    rows = session.scalars(
        select(WarningSent).where(WarningSent.team_id == team_id, WarningSent.sent_at > since,
                                  WarningSent.rep_id.is_not(None))
        .order_by(WarningSent.sent_at, WarningSent.id))
    latest: dict[tuple[str, str, str], Prior] = {}
    for row in rows:
        signal: Signal = row.signal  # type: ignore[assignment]  # only drift signals are stored
        latest[(row.manager_id, row.rep_id or "", row.signal)] = Prior(
            row.id, PriorWarning(signal=signal, sent_at=row.sent_at, rearmed=row.rearmed))
    return latest


def recently_warned(session: Session, team_id: str, since: dt.datetime) -> dict[tuple[str, str], dt.datetime]:
    """(manager, signal) pairs warned after `since`, with the latest time: at most one warning per
    manager and signal per cooldown, whichever rep it was about."""
    rows = session.execute(select(WarningSent.manager_id, WarningSent.signal, func.max(WarningSent.sent_at)).where(
        WarningSent.team_id == team_id, WarningSent.sent_at > since).group_by(WarningSent.manager_id, WarningSent.signal))
    return {(manager, signal): at if at.tzinfo else at.replace(tzinfo=dt.UTC) for manager, signal, at in rows}


def mark_rearmed(session: Session, warning_id: int) -> None:
    session.execute(update(WarningSent).where(WarningSent.id == warning_id).values(rearmed=True)
                    .execution_options(synchronize_session=False))


def claim_warning(session: Session, team_id: str, manager_id: str, kind: str, now: dt.datetime) -> int | None:
    """Insert today's claim for this manager and kind; None if another pass already holds it."""
    claimed = insert_ignore(session, WarningClaim, {"team_id": team_id, "manager_id": manager_id, "kind": kind,
                                                    "day": now.astimezone(dt.UTC).date(), "created_at": now},
                            returning=WarningClaim.id)
    return claimed[0] if claimed else None


def record_warnings(session: Session, team_id: str, manager_id: str, items: list[tuple[str, str, float]],
                    now: dt.datetime) -> list[int]:
    """One `warnings_sent` row per (rep, signal, value) the DM covers."""
    rows = [WarningSent(team_id=team_id, manager_id=manager_id, rep_id=rep, signal=signal, value=value,
                        rearmed=False, sent_at=now) for rep, signal, value in items]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


def warning_delivered(session: Session, claim_id: int, warning_ids: list[int], ts: str | None) -> None:
    session.execute(update(WarningClaim).where(WarningClaim.id == claim_id).values(message_ts=ts)
                    .execution_options(synchronize_session=False))
    session.execute(update(WarningSent).where(WarningSent.id.in_(warning_ids)).values(message_ts=ts)
                    .execution_options(synchronize_session=False))
