"""The six drift signals, each a pure function of (history, thresholds, now).

Windows are half-open: an event counts for an ``N``-day window ending at ``now`` when
``now - N days < at <= now``. Events after ``now`` are ignored, which is what lets
``weekly_series`` replay the same history at earlier moments.
"""

from __future__ import annotations

import math
import statistics
from datetime import datetime, timedelta

from coaching.drift_model import PRESSURE_LABELS, PairHistory, SignalReading, Thresholds, Touch

FREQUENCY_WINDOW_DAYS = 7
LOOKBACK_DAYS = 28
LATENCY_HALF_DAYS = 14
# Minimum samples before a share-based signal may breach, so one event never triggers a warning.
MIN_PRESSURE_QUESTIONS = 2
MIN_COVERAGE_TOUCHES = 3
MIN_FEEDBACK_ANSWERS = 3
MIN_FATIGUE_OUTCOMES = 3
MIN_LATENCY_SAMPLES = 2
MIN_GOALS_FOR_COVERAGE = 2
LATENCY_TREND_FACTOR = 2.0
# The clear margin over the agreed cadence that counts as drift (see frequency_limit).
AGREED_MARGIN = 2
_EPS = 1e-9
_LABEL_NOUNS: dict[str, tuple[str, str]] = {
    "status_demand": ("status demand", "status demands"),
    "blame": ("blaming question", "blaming questions"),
    "directive": ("directive", "directives"),
}


# The contact gap a rep's agreed cadence allows: this many of its intervals (weekly: 10.5 days,
# monthly: about 45), never less than `contact_gap_days`.
CONTACT_GAP_INTERVALS = 1.5


def contact_gap_limit(agreed_per_week: float, floor_days: float) -> float:
    """Days without a check-in that count as a gap, for this agreed cadence (touches per week)."""
    if agreed_per_week <= _EPS:
        return float(floor_days)
    return max(float(floor_days), CONTACT_GAP_INTERVALS * 7 / agreed_per_week)


# ---- The leave clock: time the rep is present. Leave stops the guard's clocks, so a rep's time
# off neither grows a contact gap nor spreads the touches around it over more days.

def _leave_before(history: PairHistory, moment: datetime) -> timedelta:
    total = timedelta(0)
    for start, end in history.leave:
        if start >= moment:
            break
        total += min(end, moment) - start
    return total


def present(history: PairHistory, moment: datetime) -> datetime:
    """`moment` on the present clock: real time minus all leave before it."""
    return moment - _leave_before(history, moment) if history.leave else moment


def real_at(history: PairHistory, on_present_clock: datetime) -> datetime:
    """The first real moment the present clock reaches `on_present_clock` (inverse of `present`)."""
    shift = timedelta(0)
    for start, end in history.leave:
        if start < on_present_clock + shift:
            shift += end - start
        else:
            break
    return on_present_clock + shift


def on_leave(history: PairHistory, now: datetime) -> bool:
    return any(start <= now < end for start, end in history.leave)


def _in_window(at: datetime, now: datetime, days: float) -> bool:
    return now - timedelta(days=days) < at <= now


def _pressure_touches(history: PairHistory, now: datetime, days: float) -> list[Touch]:
    # Rep-initiated touches are the rep's own initiative, never manager pressure.
    return [t for t in history.touches if not t.initiated_by_rep and _in_window(t.at, now, days)]


def _n(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def _pct(share: float) -> str:
    return f"{round(share * 100)}%"


def describe_cadence(per_week: float) -> str:
    """Plain-text name of an agreed cadence given in touches per week."""
    if per_week <= _EPS:
        return "no regular check-ins"
    if math.isclose(per_week, 5.0, abs_tol=0.01):
        return "daily check-ins (about 5 a week)"
    if math.isclose(per_week, 1.0, abs_tol=0.01):
        return "weekly check-ins"
    if math.isclose(per_week, 0.5, abs_tol=0.01):
        return "check-ins every 2 weeks"
    if 0.2 <= per_week <= 0.25:
        return "monthly check-ins"
    return f"about {per_week:g} check-ins a week"


def describe_duration(value: timedelta) -> str:
    seconds = value.total_seconds()
    if seconds < 3600:
        return _n(max(1, round(seconds / 60)), "minute")
    if seconds < 2 * 86400:
        hours = round(seconds / 3600, 1)
        return f"{hours:g} hour" + ("" if hours == 1 else "s")
    days = round(seconds / 86400, 1)
    return f"{days:g} days"


def frequency_limit(agreed_per_week: float, max_touches_per_rep_per_week: int) -> int:
    """The most touches in any 7 days that do not count as drift.

    Breach when touches > max_touches_per_rep_per_week OR touches > agreed + 2 (a clear margin
    over what the rep agreed to), i.e. limit = min(cap, floor(agreed) + 2) for integer counts.
    But the agreed cadence itself is never drift: a rep who accepted daily check-ins (5 a week)
    is not micromanaged by them, so the limit never drops below ceil(agreed).
    """
    agreed_ceiling = math.ceil(agreed_per_week - _EPS)
    margin_limit = math.floor(agreed_per_week + _EPS) + AGREED_MARGIN
    return max(agreed_ceiling, min(max_touches_per_rep_per_week, margin_limit))


def _max_rolling_count(times: list[datetime], now: datetime) -> tuple[int, list[datetime]]:
    """Largest count in any 7-day window (end-7d, end] whose end lies in (now-7d, now].

    The count only rises when the window's end reaches a touch, so the maximum is at a recent
    touch, at ``now``, or just after ``now - 7d`` (the oldest window still "ending this week",
    which holds exactly the touches in (now-14d, now-7d]).
    """
    window = timedelta(days=FREQUENCY_WINDOW_DAYS)
    ends = [t for t in times if now - window < t <= now] + [now, now - window]
    best: list[datetime] = []
    for end in ends:
        inside = [t for t in times if end - window < t <= end]
        if len(inside) > len(best):
            best = inside
    return len(best), best


def frequency(history: PairHistory, thresholds: Thresholds, now: datetime) -> SignalReading:
    # Touches up to 14 days back can fall in a 7-day window that ends within the last 7 days;
    # days are counted on the present clock (leave skipped).
    clock_now = present(history, now)
    touches = [t for t in history.touches if not t.initiated_by_rep and t.at <= now
               and _in_window(present(history, t.at), clock_now, 2 * FREQUENCY_WINDOW_DAYS)]
    count, busiest = _max_rolling_count([present(history, t.at) for t in touches], clock_now)
    busiest_times = set(busiest)
    in_busiest = [t for t in touches if present(history, t.at) in busiest_times]
    adhoc = sum(1 for t in in_busiest if t.kind == "adhoc")
    limit = frequency_limit(history.agreed_touches_per_week, thresholds.max_touches_per_rep_per_week)
    observed = (
        f"{_n(count, 'check-in or question', 'check-ins and questions')} within 7 days "
        f"({adhoc} ad-hoc, {count - adhoc} scheduled)"
    )
    agreed = (
        f"{describe_cadence(history.agreed_touches_per_week)}; "
        f"up to {limit} check-ins and questions in any 7 days keeps to it"
    )
    return SignalReading(
        signal="frequency",
        value=float(count),
        threshold=float(limit),
        breached=count > limit,
        observed=observed,
        agreed=agreed,
    )


def tone(history: PairHistory, thresholds: Thresholds, now: datetime) -> SignalReading:
    questions = [q for q in history.questions if _in_window(q.at, now, LOOKBACK_DAYS)]
    pressure = [q for q in questions if q.label in PRESSURE_LABELS]
    share = len(pressure) / len(questions) if questions else 0.0
    breached = len(pressure) >= MIN_PRESSURE_QUESTIONS and share >= thresholds.status_demand_share
    if questions:
        by_label = ", ".join(
            _n(sum(1 for q in pressure if q.label == label), *_LABEL_NOUNS[label])
            for label in _LABEL_NOUNS
            if any(q.label == label for q in pressure)
        )
        observed = (
            f"{len(pressure)} of your {_n(len(questions), 'ad-hoc question')} in the last "
            f"{LOOKBACK_DAYS} days read as status demands, blame or directives"
            + (f" ({by_label})" if by_label else "")
        )
    else:
        observed = f"no ad-hoc questions in the last {LOOKBACK_DAYS} days"
    agreed = f"fewer than {_pct(thresholds.status_demand_share)} of questions as status demands, blame or directives"
    return SignalReading(
        signal="tone",
        value=share,
        threshold=thresholds.status_demand_share,
        breached=breached,
        observed=observed,
        agreed=agreed,
    )


def coverage(history: PairHistory, thresholds: Thresholds, now: datetime) -> SignalReading:
    touches = _pressure_touches(history, now, LOOKBACK_DAYS)
    goals = history.active_goal_count
    agreed = f"a selective focus: at most {_pct(thresholds.max_coverage_share)} of check-ins and questions covering every goal"
    if goals < MIN_GOALS_FOR_COVERAGE:
        # With a single goal every check-in covers "all" goals; that is focus, not inspection.
        return SignalReading(
            signal="coverage",
            value=0.0,
            threshold=thresholds.max_coverage_share,
            breached=False,
            observed=f"{_n(goals, 'active goal')}, so each check-in is naturally focused",
            agreed=agreed,
        )
    # goal_ids carries ids of active goals; asking about at least as many as are active = all.
    everything = sum(1 for t in touches if len(set(t.goal_ids)) >= goals)
    share = everything / len(touches) if touches else 0.0
    breached = len(touches) >= MIN_COVERAGE_TOUCHES and share > thresholds.max_coverage_share
    observed = (
        f"{everything} of {_n(len(touches), 'check-in or question', 'check-ins and questions')} "
        f"in the last {LOOKBACK_DAYS} days asked about {'both' if goals == 2 else f'all {goals}'} goals"
    )
    return SignalReading(
        signal="coverage",
        value=share,
        threshold=thresholds.max_coverage_share,
        breached=breached,
        observed=observed,
        agreed=agreed,
    )


def feedback(history: PairHistory, thresholds: Thresholds, now: datetime) -> SignalReading:
    answered = [
        a
        for a in history.answers
        if a.answered_at is not None and _in_window(a.answered_at, now, LOOKBACK_DAYS)
    ]
    # A request for help weighs like one more answer: answered, a response; left open, one missing.
    helps = [h for h in history.help_requests if _in_window(h.asked_at, now, LOOKBACK_DAYS)]
    helped = sum(1 for h in helps if h.answered)
    acknowledged = sum(1 for a in answered if a.acknowledged)
    items = len(answered) + len(helps)
    # With nothing answered there is nothing left unacknowledged: report the healthy end.
    share = (acknowledged + helped) / items if items else 1.0
    breached = items >= MIN_FEEDBACK_ANSWERS and share < thresholds.min_feedback_share
    if answered:
        observed = (
            f"you acknowledged or replied to {acknowledged} of {_n(len(answered), 'answer')} "
            f"in the last {LOOKBACK_DAYS} days"
        )
    else:
        observed = f"no answers in the last {LOOKBACK_DAYS} days"
    if helps:
        observed += f", and answered {helped} of {_n(len(helps), 'request')} for help"
    return SignalReading(
        signal="feedback",
        value=share,
        threshold=thresholds.min_feedback_share,
        breached=breached,
        observed=observed,
        agreed=f"a thank-you or a note on at least {_pct(thresholds.min_feedback_share)} of answers",
    )


def _median(latencies: list[timedelta]) -> timedelta:
    return timedelta(seconds=statistics.median(lat.total_seconds() for lat in latencies))


def latency_trend(history: PairHistory, now: datetime) -> tuple[timedelta, timedelta] | None:
    """(prior median, recent median) when the rep's reply latency more than doubled, else None.

    Recent = answers in the last 14 days; prior = the 14 days before that; each needs 2 samples.
    """
    recent: list[timedelta] = []
    prior: list[timedelta] = []
    earlier_end = now - timedelta(days=LATENCY_HALF_DAYS)
    for o in history.outcomes:
        if o.kind != "answered" or o.latency is None:
            continue
        if _in_window(o.at, now, LATENCY_HALF_DAYS):
            recent.append(o.latency)
        elif _in_window(o.at, earlier_end, LOOKBACK_DAYS - LATENCY_HALF_DAYS):
            prior.append(o.latency)
    if len(recent) < MIN_LATENCY_SAMPLES or len(prior) < MIN_LATENCY_SAMPLES:
        return None
    recent_median, prior_median = _median(recent), _median(prior)
    if recent_median > prior_median * LATENCY_TREND_FACTOR:
        return prior_median, recent_median
    return None


def fatigue(history: PairHistory, thresholds: Thresholds, now: datetime) -> SignalReading:
    outcomes = [o for o in history.outcomes if _in_window(o.at, now, LOOKBACK_DAYS)]
    missed = sum(1 for o in outcomes if o.kind != "answered")
    rate = missed / len(outcomes) if outcomes else 0.0
    rate_breached = len(outcomes) >= MIN_FATIGUE_OUTCOMES and rate > thresholds.max_fatigue_rate
    trend = latency_trend(history, now)
    if outcomes:
        observed = (
            f"{missed} of {_n(len(outcomes), 'check-in')} in the last {LOOKBACK_DAYS} days "
            f"skipped, snoozed or expired"
        )
    else:
        observed = f"no check-ins in the last {LOOKBACK_DAYS} days"
    if trend is not None:
        prior_median, recent_median = trend
        observed += (
            f"; the typical reply time rose from {describe_duration(prior_median)} "
            f"to {describe_duration(recent_median)}"
        )
    return SignalReading(
        signal="fatigue",
        value=rate,
        threshold=thresholds.max_fatigue_rate,
        breached=rate_breached or trend is not None,
        observed=observed,
        agreed=(
            f"at most {_pct(thresholds.max_fatigue_rate)} of check-ins skipped, snoozed or expired, "
            "and reply times holding steady"
        ),
    )


def last_contact(history: PairHistory, now: datetime) -> datetime | None:
    candidates = [t.at for t in history.touches if not t.initiated_by_rep and t.at <= now]
    if history.last_contact_at is not None and history.last_contact_at <= now:
        candidates.append(history.last_contact_at)
    return max(candidates) if candidates else None


def contact_gap(history: PairHistory, thresholds: Thresholds, now: datetime) -> SignalReading:
    latest = last_contact(history, now)
    paused = history.paused_until is not None and history.paused_until > now
    away = on_leave(history, now)
    limit = contact_gap_limit(history.agreed_touches_per_week, thresholds.contact_gap_days)
    agreed = (
        f"a check-in at least every {_n(math.floor(limit), 'day')} "
        f"({describe_cadence(history.agreed_touches_per_week)})"
    )
    if latest is None:
        # No known contact means no known start either; the caller passes last_contact_at (e.g.
        # when the pair was set up) to measure a gap from it.
        days = 0.0
        observed = "no check-ins on record yet"
    else:
        days = (present(history, now) - present(history, latest)).total_seconds() / 86400
        whole_days = math.floor(days)
        observed = (
            f"{_n(whole_days, 'day')} since the last check-in"
            if whole_days
            else "last check-in less than a day ago"
        )
        if _leave_before(history, now) > _leave_before(history, latest):
            observed += ", not counting leave"
    if paused and history.paused_until is not None:
        observed += f" (check-ins paused until {history.paused_until.date().isoformat()})"
    if away:
        observed += " (the rep is on leave)"
    return SignalReading(
        signal="contact_gap",
        value=days,
        threshold=limit,
        breached=latest is not None and not paused and not away and days >= limit,
        observed=observed,
        agreed=agreed,
    )
