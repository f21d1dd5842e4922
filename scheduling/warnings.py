"""The drift guard's dispatch step: private warnings to managers, once, and only to the manager.

Each pass reads every manager-rep pair's history, tracks re-arming on the last warning of each
signal, and warns when `coaching.drift.should_warn` says so and the manager has had no warning of
that signal within `warning_cooldown_days` (whichever rep it was about). One DM per manager and
kind (`drift_warning`, or `contact_gap`) bundles every rep and signal due, so a bad week is one
message, not six. A claim row unique per manager, kind and UTC day makes a second pass, or a
concurrent one, send nothing.

The same evaluation feeds `/checkin health` and the App Home meter (`rep_health`, `org_states`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from coaching.drift import (
    DriftState,
    PairHistory,
    Signal,
    SignalReading,
    Thresholds,
    compute_signals,
    drift_state,
    should_warn,
    track_rearm,
    weekly_series,
)
from core.config import AdminConfig
from core.services import Services
from scheduling.sender import post
from storage import guard, guard_history

if TYPE_CHECKING:
    from scheduling.dispatch import PassReport

log = logging.getLogger(__name__)

DRIFT_WARNING, CONTACT_GAP = "drift_warning", "contact_gap"
TREND_WEEKS = 8
_STATE_ORDER: dict[DriftState, int] = {"healthy": 0, "watch": 1, "drifting": 2}


def thresholds_of(config: AdminConfig) -> Thresholds:
    g = config.guard
    return Thresholds(max_touches_per_rep_per_week=g.max_touches_per_rep_per_week,
                      status_demand_share=g.status_demand_share, contact_gap_days=g.contact_gap_days,
                      warning_cooldown_days=g.warning_cooldown_days)


def kind_of(signal: Signal) -> str:
    """The metadata event type of a warning about this signal."""
    return CONTACT_GAP if signal == "contact_gap" else DRIFT_WARNING


# ---- Health (the report, App Home, admin aggregates) ----------------------------------------------

@dataclass(frozen=True)
class RepHealth:
    rep: str
    readings: dict[Signal, SignalReading]
    trend: dict[Signal, list[float]]  # oldest week first; empty when not asked for
    state: DriftState
    paused: bool


def rep_health(session: Session, config: AdminConfig, team_id: str, manager: str, reps: list[str],
               now: dt.datetime, trend: bool = True) -> list[RepHealth]:
    """Each rep's readings against the thresholds (and, with `trend`, the last 8 weeks)."""
    thresholds = thresholds_of(config)
    days = guard_history.HISTORY_DAYS + (7 * TREND_WEEKS if trend else 0)
    histories = guard_history.pair_histories(session, config, team_id, [(manager, r) for r in reps], now, days=days)
    out: list[RepHealth] = []
    for (_, rep), history in histories.items():
        readings = compute_signals(history, thresholds, now)
        series = weekly_series(history, thresholds, now, TREND_WEEKS) if trend else {}
        out.append(RepHealth(rep=rep, readings=readings, trend=series, state=drift_state(readings),
                             paused=_paused(history, now)))
    return out


def _paused(history: PairHistory, now: dt.datetime) -> bool:
    return history.paused_until is not None and history.paused_until > now


def worst(states: list[DriftState]) -> DriftState:
    return max(states, key=lambda s: _STATE_ORDER[s]) if states else "healthy"


@dataclass(frozen=True)
class OrgStates:
    """Admin aggregate: managers per drift state, and per signal how many have a rep over the line."""

    managers: dict[DriftState, int]
    by_signal: dict[Signal, int]

    @property
    def total(self) -> int:
        return sum(self.managers.values())


def org_states(session: Session, config: AdminConfig, team_id: str, now: dt.datetime) -> OrgStates:
    """Counts only: never who, never what was said. A manager's state is their worst pair's."""
    thresholds = thresholds_of(config)
    pairs = guard.all_pairs(session, team_id)
    per_manager: dict[str, list[DriftState]] = defaultdict(list)
    signals: dict[Signal, set[str]] = defaultdict(set)
    for (manager, _), history in guard_history.pair_histories(session, config, team_id, pairs, now).items():
        readings = compute_signals(history, thresholds, now)
        per_manager[manager].append(drift_state(readings))
        for signal, reading in readings.items():
            if reading.breached:
                signals[signal].add(manager)
    managers: dict[DriftState, int] = {"healthy": 0, "watch": 0, "drifting": 0}
    for states in per_manager.values():
        managers[worst(states)] += 1
    return OrgStates(managers=managers, by_signal={s: len(m) for s, m in signals.items()})


# ---- The dispatch step ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Due:
    rep: str
    reading: SignalReading


def due_warnings(session: Session, config: AdminConfig, team_id: str,
                 now: dt.datetime) -> dict[str, dict[str, list[Due]]]:
    """manager -> kind -> what to warn about now. Records re-arming as a side effect."""
    thresholds = thresholds_of(config)
    cooldown = dt.timedelta(days=thresholds.warning_cooldown_days)
    pairs = guard.all_pairs(session, team_id)
    histories = guard_history.pair_histories(session, config, team_id, pairs, now)
    priors = guard.warning_priors(session, team_id, now - 2 * cooldown - dt.timedelta(days=1))
    recent = guard.recently_warned(session, team_id, now - cooldown) if cooldown else set()
    due: dict[str, dict[str, list[Due]]] = defaultdict(lambda: defaultdict(list))
    for (manager, rep), history in histories.items():
        for signal, reading in compute_signals(history, thresholds, now).items():
            found = priors.get((manager, rep, signal))
            prior = found.prior if found else None
            tracked = track_rearm(prior, reading, thresholds)
            if found and tracked is not None and tracked.rearmed and not found.prior.rearmed:
                guard.mark_rearmed(session, found.warning_id)
            if should_warn(reading, tracked, thresholds, now) and (manager, signal) not in recent:
                due[manager][kind_of(signal)].append(Due(rep, reading))
    return due


def send_warnings(services: Services, now: dt.datetime, report: PassReport) -> None:
    """The pass step: evaluate every pair, then send each manager's due DMs under a claim."""
    with services.sessions.begin() as session:
        due = due_warnings(session, services.config, services.team_id, now)
    for manager, kinds in sorted(due.items()):
        for kind, items in sorted(kinds.items()):
            _send(services, manager, kind, items, now, report)


def _send(services: Services, manager: str, kind: str, items: list[Due], now: dt.datetime,
          report: PassReport) -> None:
    from handlers.render.guard import warning_dm

    with services.sessions.begin() as session:
        claim = guard.claim_warning(session, services.team_id, manager, kind, now)
        if claim is None:
            return  # another pass sent (or is sending) this manager's warning today
        ids = guard.record_warnings(session, services.team_id, manager,
                                    [(d.rep, d.reading.signal, d.reading.value) for d in items], now)
    result = post(services.client, **warning_dm(manager, kind, [(d.rep, d.reading) for d in items]))
    with services.sessions.begin() as session:
        if result.outcome == "ok":
            guard.warning_delivered(session, claim, ids, result.ts)
            report.add(f"{kind}s")
        elif result.outcome == "permanent":
            # Slack can't reach this manager; keep the claim so we don't retry every minute today.
            log.warning("could not send a %s to %s: %s", kind, manager, result.error)
            report.add("warnings_undeliverable")
        elif result.outcome == "unknown":
            # The request went out and the reply was lost: Slack may have posted it. Keeping the
            # claim risks one missed warning today; releasing it risks a duplicate DM.
            log.warning("no reply from Slack for a %s to %s; not retrying today", kind, manager)
            report.add("warnings_unconfirmed")
        else:
            guard.release_warning(session, claim, ids)
            report.add("warnings_retry_later")
            if result.outcome == "fatal":
                report.fatal = report.fatal or result.error


