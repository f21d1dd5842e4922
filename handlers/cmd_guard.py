"""`/checkin ask` (through the tone check and the touch budget) and `/checkin health`.

A manager may ask only their own reps; anything else gets the same refusal as a rep who does not
exist. Every question is stored, sent or not, so the health report and the drift guard see it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject

from coaching.drift import PRESSURE_LABELS
from coaching.drift_signals import describe_cadence
from coaching.health_chart import HealthChart, health_chart, to_payload
from coaching.tone import classify, confident_pressure
from core.services import Services
from handlers.context import REFUSAL, SlashContext, SubcommandHandler
from handlers.delivery import deliver_now, delivered, undeliverable, waiting_note
from handlers.render import guard as render
from handlers.render.guard_health import PREPARING, admin_blocks, health_blocks
from handlers.zones import fill_names
from scheduling.warnings import org_states, rep_health
from storage import guard, leave, outbox
from storage.models import ManagerQuestion, OutboxKind
from storage.people import ensure_user, get_user
from storage.schedules import schedule_for, zone_of

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1500


@dataclass(frozen=True)
class Delivery:
    # gone = no longer held (already sent or cancelled); queued = waiting for the rep's hours or a retry
    outcome: Literal["sent", "queued", "gone", "failed"]
    rep: str = ""
    text: str = ""
    note: str = ""  # when a queued question will arrive


def deliver(services: Services, question_id: int, *, use_suggestion: bool, overridden: bool) -> Delivery:
    """Send a held question (or its coaching rewrite) to the rep as an ad-hoc check-in, once.

    It goes through the outbox like everything else: at once when the rep's hours allow, else at
    the start of their next working day.
    """
    now = services.now()
    with services.sessions.begin() as session:
        question = session.get(ManagerQuestion, question_id)
        if question is None:
            return Delivery("gone")
        text = question.suggestion if use_suggestion and question.suggestion else question.text
        rep, manager = question.rep_id, question.manager_id
        if not guard.claim_question(session, question_id, now, overridden=overridden,
                                    used_suggestion=use_suggestion):
            return Delivery("gone")
        checkin_id = guard.open_adhoc_checkin(session, question.team_id, rep, manager, question_id, text, now)
        queued = outbox.of_checkin(session, checkin_id)
    fill_names(services, [rep])  # their zone, if never read: the question waits for their morning
    states = deliver_now(services, [queued] if queued else [])
    if delivered(states, queued):
        return Delivery("sent", rep, text)
    if undeliverable(states, queued):
        log.warning("could not send question %s to %s", question_id, rep)
        return Delivery("failed", rep, text)
    return Delivery("queued", rep, text, waiting_note(services, states, queued, rep, manager))


def handle_ask(ctx: SlashContext) -> None:
    services, rep = ctx.services, ctx.command.reps[0]
    text = render.plain_from_slack(ctx.command.text).strip()
    if len(text) > MAX_QUESTION_CHARS:
        ctx.reply(f"That question is {len(text)} characters; please keep it under {MAX_QUESTION_CHARS}. "
                  "Nothing was sent.")
        return
    now = services.now()
    tone = classify(text)
    limit = services.config.guard.max_touches_per_rep_per_week
    hold_tone = confident_pressure(tone.label, tone.confidence, services.config.guard.tone_hold_confidence)
    # A pressure reading the classifier is unsure of goes out, with a private hint to the manager.
    unsure = tone.label in PRESSURE_LABELS and not hold_tone
    with services.sessions.begin() as session:
        allowed = rep in guard.manager_reps(session, ctx.team_id, ctx.user_id)
        if allowed:
            user = ensure_user(session, ctx.team_id, rep, now)
            schedule = schedule_for(session, services.config, user)
            touches = guard.touches_last_week(session, ctx.team_id, rep, now)
            paused = user.paused_until if user.paused_until and user.paused_until > now else None
            today = now.astimezone(schedule.zone).date()
            away = leave.current(leave.ranges_of(session, ctx.team_id, [rep], today).get(rep, []), today)
            if away is not None:  # on leave: a question would wait until they are back
                paused = max(paused or now, away.utc_interval(schedule.zone)[1])
            reasons = [name for name, holds in (("tone", hold_tone),
                                                ("budget", touches + 1 > limit),
                                                ("paused", paused is not None)) if holds]
            question = guard.add_question(session, ctx.team_id, ctx.user_id, rep, text, tone.label,
                                          tone.suggestion, reasons, now, confidence=tone.confidence)
            question_id = question.id
            agreed = schedule.agreed
            cadence = f"{describe_cadence(schedule.touches_per_week)} ({agreed.rhythm()})"
            paused_text = paused.astimezone(schedule.zone).date().isoformat() if paused else None
    if not allowed:
        ctx.reply(REFUSAL)
        return
    if reasons:
        reply_text, blocks = render.held_reply(render.Held(
            question_id=question_id, rep=rep, text=text, label=tone.label, suggestion=tone.suggestion,
            reasons=tone.reasons, hold_reasons=tuple(reasons), touches=touches, limit=limit, cadence=cadence,
            paused_until=paused_text))
        ctx.reply(reply_text, blocks)
        return
    # Posting to the rep waits on Slack (and its rate limits): acknowledge first, report after.
    ctx.ack()
    delivery = deliver(services, question_id, use_suggestion=False, overridden=False)
    if delivery.outcome in ("sent", "queued"):
        hint = render.tone_hint(tone.label, tone.phrases, tone.suggestion) if unsure else None
        ctx.later(render.sent_note(rep, text, hint, delivery.note))
    else:
        _cancel_quietly(services, question_id)
        ctx.later("Slack didn't accept the message just now, so nothing was sent. Please try again in a minute.")


def _cancel_quietly(services: Services, question_id: int) -> None:
    with services.sessions.begin() as session:
        guard.cancel_question(session, question_id)


def health_report(services: Services, user_id: str, page: int = 0) -> tuple[str, list[Block]] | None:
    """The caller's own report (managers) and/or org aggregates (admins); None for anyone else."""
    return health_parts(services, user_id, page)[0]


def health_parts(services: Services, user_id: str,
                 page: int = 0) -> tuple[tuple[str, list[Block]] | None, HealthChart | None]:
    """`health_report`, and the trend chart of the manager's own reps (None for no trend)."""
    now = services.now()
    with services.sessions.begin() as session:
        reps = guard.manager_reps(session, services.team_id, user_id, reachable_only=True)
        is_admin = user_id in services.config.admins
        items = rep_health(session, services.config, services.team_id, user_id, reps, now) if reps else None
        org = org_states(session, services.config, services.team_id, now) if is_admin else None
        zone = zone_of(get_user(session, services.team_id, user_id), services.config)
    if items is None and org is None:
        return None, None
    chart = health_chart([(i.rep, i.trend, {s: r.threshold for s, r in i.readings.items()}) for i in items],
                         now, zone) if items else None
    texts: list[str] = []
    blocks: list[Block] = []
    if items is not None:
        text, own = health_blocks(items, page)
        texts.append(text)
        blocks += own
    if org is not None:
        text, aggregate = admin_blocks(org)
        texts.append(text)
        blocks += aggregate
    return (" ".join(texts), blocks), chart


def may_see_health(services: Services, user_id: str) -> bool:
    """Whether `health_report` has anything for this user: a few indexed lookups, fit for an ack."""
    if user_id in services.config.admins:
        return True
    with services.sessions() as session:
        return bool(guard.manager_reps(session, services.team_id, user_id, reachable_only=True))


def handle_health(ctx: SlashContext) -> None:
    # An admin's report covers every manager-rep pair: ack first, then build it and respond.
    if not may_see_health(ctx.services, ctx.user_id):
        ctx.reply(REFUSAL)
        return
    ctx.reply(PREPARING)
    report, chart = health_parts(ctx.services, ctx.user_id)
    if report is None:
        ctx.later(REFUSAL)
        return
    queued = _queue_chart(ctx.services, ctx.user_id, chart) if chart else None
    text, blocks = report
    if queued is not None:
        blocks = [*blocks, ContextBlock(elements=[MarkdownTextObject(text=CHART_FOLLOWS)])]
    ctx.later(text, blocks)
    if queued is None:
        return
    # Drawn and uploaded by the outbox worker, after the report is already on screen.
    states = deliver_now(ctx.services, [queued])
    if undeliverable(states, queued):
        ctx.later(CHART_FAILED)


CHART_FOLLOWS = ":chart_with_upwards_trend: A chart of these 8-week trends follows in our DM."
CHART_FAILED = "I couldn't post the trend chart just now; the bars in the report show the same figures."


def _queue_chart(services: Services, user_id: str, chart: HealthChart) -> int | None:
    now = services.now()
    with services.sessions.begin() as session:
        return outbox.enqueue(session, team_id=services.team_id, kind=OutboxKind.HEALTH_CHART, recipient=user_id,
                              dedupe_key=f"health_chart:{user_id}:{now.isoformat()}", now=now,
                              payload={"chart": to_payload(chart)})


ROUTES: dict[str, SubcommandHandler] = {
    "ask": handle_ask,
    "health": handle_health,
}
