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
from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session

from coaching.drift import (
    DriftState,
    PairHistory,
    Signal,
    SignalReading,
    Thresholds,
    compute_signals,
    drift_state,
    next_change,
    should_warn,
    track_rearm,
    weekly_series,
)
from coaching.drift_signals import on_leave
from core.config import AdminConfig
from core.services import Services
from scheduling.report import PassReport
from storage import changes, guard, guard_history, outbox, pair_states
from storage.models import OutboxKind

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
    # Leave under way reads as a pause in the health report: no check-ins are expected.
    return (history.paused_until is not None and history.paused_until > now) or on_leave(history, now)


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
    """Counts only: never who, never what was said. A manager's state is their worst pair's.

    Read from the states the dispatch pass stored; only pairs whose inputs changed since (or that
    are due a re-evaluation, or were never evaluated) are computed here, so the counts are the
    ones a full evaluation would give, and an App Home open costs little at any size.
    """
    thresholds = thresholds_of(config)
    pairs = guard.all_pairs(session, team_id)
    known = pair_states.stored(session, team_id)
    since = changes.scan_since(session, team_id, now, config.digest())
    if since is None:
        live = pairs
    else:
        changed = changes.guard_dirty(session, team_id) | changes.checkins_changed(session, team_id, since)
        live = [p for p in pairs if p[1] in changed or _stale(known.get(p), now)]
    per_manager: dict[str, list[DriftState]] = defaultdict(list)
    signals: dict[str, set[str]] = defaultdict(set)
    for (manager, _), history in guard_history.pair_histories(session, config, team_id, live, now).items():
        readings = compute_signals(history, thresholds, now)
        per_manager[manager].append(drift_state(readings))
        for signal, reading in readings.items():
            if reading.breached:
                signals[signal].add(manager)
    fresh = set(live)
    for pair in pairs:
        if pair not in fresh:
            stored_state = known[pair]
            per_manager[pair[0]].append(stored_state.state)  # type: ignore[arg-type]  # written from DriftState
            for name in stored_state.breached:
                signals[name].add(pair[0])
    managers: dict[DriftState, int] = {"healthy": 0, "watch": 0, "drifting": 0}
    for states in per_manager.values():
        managers[worst(states)] += 1
    return OrgStates(managers=managers, by_signal={s: len(m) for s, m in signals.items()})  # type: ignore[misc]


def _stale(state: pair_states.Evaluated | None, now: dt.datetime) -> bool:
    return state is None or (state.next_eval_at is not None and state.next_eval_at <= now)


# ---- The dispatch step ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Due:
    rep: str
    reading: SignalReading


def due_warnings(session: Session, config: AdminConfig, team_id: str,
                 now: dt.datetime) -> dict[str, dict[str, list[Due]]]:
    """manager -> kind -> what to warn about now. Records re-arming as a side effect.

    Only pairs that may have moved are evaluated: those whose rep's inputs changed since the last
    pass (storage.changes), and those whose stored next evaluation has come. A pair's next
    evaluation is the first moment its readings or the warning rule could change on their own
    (`next_change`, a cooldown ending), or the next pass while a warning is due, so every other
    pass would have found nothing to do for it, exactly as a full evaluation would.
    """
    thresholds = thresholds_of(config)
    cooldown = dt.timedelta(days=thresholds.warning_cooldown_days)
    digest = config.digest()
    since = changes.scan_since(session, team_id, now, digest)
    dirty = changes.take_guard_dirty(session, team_id)
    scope: set[str] | None = None
    if since is None:
        pairs = guard.all_pairs(session, team_id)
    else:
        scope = dirty | changes.checkins_changed(session, team_id, since) | pair_states.due_reps(session, team_id, now)
        pairs = guard.pairs_of(session, team_id, scope)
    histories = guard_history.pair_histories(session, config, team_id, pairs, now)
    priors = guard.warning_priors(session, team_id, now - 2 * cooldown - dt.timedelta(days=1))
    recent = guard.recently_warned(session, team_id, now - cooldown) if cooldown else {}
    # When the warning rule may change for a manager's pairs: a cooldown (or two) after a warning,
    # and when a warning leaves the look-back of `warning_priors`.
    rule_changes: dict[str, list[dt.datetime]] = defaultdict(list)
    for (manager, _, _), last in priors.items():
        sent = last.prior.sent_at
        rule_changes[manager] += [sent + cooldown, sent + 2 * cooldown, sent + 2 * cooldown + dt.timedelta(days=1)]
    for (manager, _), sent in recent.items():
        rule_changes[manager].append(sent + cooldown)
    due: dict[str, dict[str, list[Due]]] = defaultdict(lambda: defaultdict(list))
    evaluated: list[pair_states.Evaluated] = []
    for (manager, rep), history in histories.items():
        readings = compute_signals(history, thresholds, now)
        warn_now = False
        for signal, reading in readings.items():
            found = priors.get((manager, rep, signal))
            prior = found.prior if found else None
            tracked = track_rearm(prior, reading, thresholds)
            if found and tracked is not None and tracked.rearmed and not found.prior.rearmed:
                guard.mark_rearmed(session, found.warning_id)
            if should_warn(reading, tracked, thresholds, now) and (manager, signal) not in recent:
                due[manager][kind_of(signal)].append(Due(rep, reading))
                warn_now = True
        moments = [at for at in rule_changes.get(manager, []) if at > now]
        change = next_change(history, thresholds, now, also_days=(guard_history.HISTORY_DAYS,))
        if change is not None:
            moments.append(change)
        # A warning due now is looked at again next pass (sent, or held by today's claim).
        next_at = now if warn_now else (min(moments) if moments else None)
        evaluated.append(pair_states.Evaluated(manager, rep, drift_state(readings),
                                               tuple(s for s, r in readings.items() if r.breached), next_at))
    pair_states.store(session, team_id, evaluated, now, scope)
    changes.mark_scanned(session, team_id, now, digest)
    return due


def enqueue_warnings(services: Services, now: dt.datetime, report: PassReport) -> None:
    """The pass step: evaluate every pair, then queue each manager's due DMs under a claim.

    The claim, the per-signal records and the outbox row are one transaction; the worker posts
    the DM in the manager's own working hours, so a warning found at night waits for the morning.
    """
    with services.sessions.begin() as session:
        due = due_warnings(session, services.config, services.team_id, now)
    for manager, kinds in sorted(due.items()):
        for kind, items in sorted(kinds.items()):
            with services.sessions.begin() as session:
                claim = guard.claim_warning(session, services.team_id, manager, kind, now)
                if claim is None:
                    continue  # another pass queued this manager's warning today
                ids = guard.record_warnings(session, services.team_id, manager,
                                            [(d.rep, d.reading.signal, d.reading.value) for d in items], now)
                outbox.enqueue(session, team_id=services.team_id, kind=OutboxKind(kind), recipient=manager,
                               dedupe_key=f"warning:{claim}", now=now, payload={
                                   "claim_id": claim, "warning_ids": ids,
                                   "items": [{"rep": d.rep, "reading": asdict(d.reading)} for d in items]})
            report.add(f"{kind}s_queued")
