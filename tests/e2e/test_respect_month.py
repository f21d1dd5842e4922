"""A simulated month in which every kind of message is set off at awkward hours.

Four reps in four zones (Los Angeles, Berlin, Sydney, Kolkata) and their manager in a fifth (New
York), across the US and EU daylight-saving changes and two holidays. The manager asks questions
late at night, reps answer in their evenings, notes, thanks, invitations and cadence proposals are
sent whenever people click. The bot runs a pass every hour. Nothing may reach anyone in their
quiet hours, on a weekend or on a holiday, in their own zone; everything must still arrive, once,
at the recipient's next allowed moment.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.clock import ManualClock
from core.config import AdminConfig
from handlers.render.manager import (
    ANSWER_REPLY,
    ANSWER_THANKS,
    CADENCE_ACCEPT,
    NOTE_BLOCK,
    NOTE_INPUT,
    TEAM_ACCEPT,
)
from sandbox import Sandbox
from sandbox.models import Message
from scheduling.respect import RULES, Rule, hours_of
from storage.models import OutboxKind, OutboxMessage, OutboxState
from wiring.config import parse_checked
from wiring.harness import BotHarness

UTC = dt.UTC
MANAGER, LA, BERLIN, SYDNEY, KOLKATA = "U0MGR", "U0LA", "U0BER", "U0SYD", "U0KOL"
ZONES = {MANAGER: "America/New_York", LA: "America/Los_Angeles", BERLIN: "Europe/Berlin",
         SYDNEY: "Australia/Sydney", KOLKATA: "Asia/Kolkata"}
HOLIDAYS = (dt.date(2026, 3, 13), dt.date(2026, 3, 20))  # two Fridays
CONFIG = f"""
[cadence]
holidays = [{", ".join(f'"{d}"' for d in HOLIDAYS)}]
reminder_after_hours = 24

[guard]
max_touches_per_rep_per_week = 2
contact_gap_days = 6
warning_cooldown_days = 3

[[teams]]
name = "Global"
manager = "{MANAGER}"
members = ["{LA}", "{BERLIN}", "{SYDNEY}"]
"""
START = dt.datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # Monday; US DST starts 8 March, EU 29 March
DAYS = 30
# Everything the month sets off, apart from digests (tests/e2e/test_respect_digest...) and the two
# kinds that answer a person's own action at once.
EXPECTED = {k for k, rule in RULES.items() if rule is Rule.RECIPIENT_HOURS} - {OutboxKind.TEAM_DIGEST}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def admin_config() -> AdminConfig:
    return parse_checked(CONFIG, "respect month")


@pytest.fixture
def month_bot(sandbox: Sandbox, database_url: str, clock: ManualClock, admin_config: AdminConfig) -> BotHarness:
    for user, zone in ZONES.items():
        sandbox.add_user(user, name=user[3:].lower(), tz=zone)
    with BotHarness(sandbox, database_url, admin_config, clock=clock) as harness:
        yield harness  # type: ignore[misc]


def at_local(person: str, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """`hour` o'clock on START's `day`-th day, in `person`'s own zone (awkward hours are local)."""
    zone = ZoneInfo(ZONES[person])
    local = dt.datetime.combine(START.date() + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=zone)
    return local.astimezone(UTC)


def newest(messages: list[Message], event_type: str) -> Message:
    found = [m for m in messages if m.event_type == event_type]
    assert found, f"no {event_type} message"
    return found[-1]


def test_a_month_of_awkward_hours_reaches_no_one_out_of_hours_and_loses_nothing(
        month_bot: BotHarness, clock: ManualClock) -> None:
    bot, slack, sandbox = month_bot, month_bot.slack, month_bot.sandbox

    def ask(rep: str, question: str) -> Callable[[], None]:
        def run() -> None:
            seen = len(sandbox.ephemerals_to(MANAGER))
            assert slack.slash(f"ask <@{rep}> {question}", user=MANAGER, escape=False).status == 200
            held = [e for e in sandbox.ephemerals_to(MANAGER)[seen:] if "ask_send_anyway" in str(e.blocks)]
            if held:  # held by the tone check or the budget: the manager sends it anyway
                slack.click("ask_send_anyway", user=MANAGER, message=held[-1])
        return run

    def answer(rep: str, text: str) -> Callable[[], None]:
        return lambda: slack.dm(rep, text) and None

    def thanks(rep: str) -> Callable[[], None]:
        def run() -> None:
            relays = [m for m in sandbox.dms_to(MANAGER) if m.event_type == "checkin_answer"
                      and m.event_payload.get("rep") == rep]
            slack.click(ANSWER_THANKS, user=MANAGER, message=relays[-1])
        return run

    def note(rep: str, text: str) -> Callable[[], None]:
        def run() -> None:
            relays = [m for m in sandbox.dms_to(MANAGER) if m.event_type == "checkin_answer"
                      and m.event_payload.get("rep") == rep]
            slack.click(ANSWER_REPLY, user=MANAGER, message=relays[-1])
            slack.submit_view(sandbox.views_of(MANAGER)[-1], {NOTE_BLOCK: {NOTE_INPUT: text}}, user=MANAGER)
        return run

    def reply(rep: str, text: str) -> Callable[[], None]:
        def run() -> None:  # in the thread of the manager's latest note to the rep
            assert slack.dm(rep, text, thread_ts=newest(sandbox.dms_to(rep), "coaching_note").ts).status == 200
        return run

    def do(command: str, user: str = MANAGER) -> Callable[[], None]:
        return lambda: slack.slash(command, user=user, escape=False) and None

    def accept(user: str, event_type: str, action_id: str) -> Callable[[], None]:
        return lambda: slack.click(action_id, user=user, message=newest(sandbox.dms_to(user), event_type)) and None

    # Every action at an hour that is awkward for whoever receives what it sets off.
    agenda: list[tuple[dt.datetime, Callable[[], None]]] = [
        (at_local(MANAGER, 0, 22), do(f"team add <@{KOLKATA}>")),  # Kolkata: 08:30 Tuesday, before hours
        (at_local(KOLKATA, 1, 12), accept(KOLKATA, "manager_question", TEAM_ACCEPT)),  # NY: 02:30
        # Kolkata skips their first check-in: 13 days without one, past a weekly rep's 10.5-day gap.
        (at_local(KOLKATA, 2, 12), do("skip", user=KOLKATA)),
        (at_local(MANAGER, 1, 23), ask(LA, "What would help you move the Acme renewal forward?")),
        (at_local(MANAGER, 1, 23, 30), ask(BERLIN, "What is one thing we could try on Initech?")),
        (at_local(MANAGER, 2, 5), ask(SYDNEY, "What would most help with the Globex pilot?")),
        (at_local(LA, 2, 21), answer(LA, "Legal is slow; a call with their counsel would help.")),
        (at_local(BERLIN, 2, 22), answer(BERLIN, "A shorter demo, maybe.")),
        # A request for help the manager never answers: its one nudge waits for the manager's morning.
        (at_local(SYDNEY, 3, 20), answer(SYDNEY, "More time with their IT lead; I'm blocked on their security review.")),
        (at_local(MANAGER, 3, 23), thanks(LA)),
        (at_local(MANAGER, 3, 23, 15), note(BERLIN, "Great idea, let's try the short demo.")),
        # Berlin's reply to that note, at 07:00 in New York: it waits for the manager's morning.
        (at_local(BERLIN, 4, 13), reply(BERLIN, "Thanks! I'll cut it to twenty minutes.")),
        (at_local(MANAGER, 4, 20), do(f"cadence <@{SYDNEY}> week tue 09:30")),  # Sydney: Saturday
        (at_local(SYDNEY, 7, 23), accept(SYDNEY, "cadence_proposal", CADENCE_ACCEPT)),  # NY: morning
        # Three questions to one rep in a week: past the budget, so the guard warns the manager.
        (at_local(MANAGER, 8, 2), ask(LA, "Where are we on Acme?")),
        (at_local(MANAGER, 9, 2), ask(LA, "Why did you miss the Acme call?")),
        (at_local(MANAGER, 10, 2), ask(LA, "Can you send me the Acme numbers?")),
        (at_local(MANAGER, 11, 23), ask(KOLKATA, "What would help you most this week?")),  # Friday 13th, a holiday
    ]
    agenda.sort(key=lambda item: item[0])
    moment = START
    end = START + dt.timedelta(days=DAYS)
    while moment <= end:
        nxt = moment + dt.timedelta(hours=1)
        while agenda and agenda[0][0] < nxt:
            when, action = agenda.pop(0)
            clock.set(max(when, moment))
            action()
        clock.set(nxt)
        bot.dispatch()
        moment = nxt
    assert not agenda

    with bot.services.sessions.begin() as session:
        rows = list(session.scalars(select(OutboxMessage)))
        hours = hours_of(session, bot.services.config, bot.services.team_id, {r.recipient for r in rows})
    # Each message reached Slack once, and only the ones Slack knows of count as sent.
    posted = [m for m in sandbox.messages() if m.event_payload.get("outbox_id") is not None]
    per_row = Counter(m.event_payload["outbox_id"] for m in posted)
    assert set(per_row.values()) == {1}, "a message was posted twice"
    by_id = {m.event_payload["outbox_id"]: m for m in posted}
    # Silent edits (chat.update of what the recipient already has) post nothing new. A relay_refresh
    # stamps its own id on the message it changed (so recovery can find the edit): that message is
    # the one its original row posted (the same channel and ts).
    edits = {r.id for r in rows if RULES[OutboxKind(r.kind)] is Rule.SILENT}
    for refresh in [r for r in rows if r.kind == OutboxKind.RELAY_REFRESH and r.id in by_id]:
        message = by_id.pop(refresh.id)
        [original] = [r for r in rows if r.id not in edits and (r.channel, r.ts) == (message.channel, message.ts)]
        by_id[original.id] = message
    assert {r.id for r in rows if r.state == OutboxState.SENT} - edits == set(by_id)
    # Nothing lost: every message set off was delivered, or dropped because its subject went away
    # (a reminder for a check-in answered meanwhile, a check-in superseded by the rep's answer).
    left = [(r.kind, r.state, r.last_error) for r in rows if r.state not in (OutboxState.SENT, OutboxState.CANCELLED)
            and not (r.state == OutboxState.PENDING and r.not_before > end)]  # next week's check-ins
    assert left == []
    cancelled = Counter(r.kind for r in rows if r.state == OutboxState.CANCELLED)
    assert set(cancelled) <= {OutboxKind.CHECKIN_REMINDER, OutboxKind.CHECKIN_PROMPT}, cancelled

    # Respect: each message landed (by Slack's own timestamp) inside its recipient's allowed hours.
    for row in rows:
        if row.state != OutboxState.SENT or RULES[OutboxKind(row.kind)] is not Rule.RECIPIENT_HOURS:
            continue
        landed = dt.datetime.fromtimestamp(float(by_id[row.id].ts), UTC)
        local = landed.astimezone(hours[row.recipient].zone)
        assert hours[row.recipient].allowed(landed), (row.kind, row.recipient, local.isoformat())
        assert local.weekday() < 5 and local.date() not in HOLIDAYS, (row.kind, row.recipient, local)
        assert not (local.time() >= dt.time(18) or local.time() < dt.time(9)), (row.kind, row.recipient, local)

    # The month really set every kind off at an awkward hour for its recipient, and each waited.
    sent_kinds = {OutboxKind(r.kind) for r in rows if r.state == OutboxState.SENT}
    assert EXPECTED <= sent_kinds, EXPECTED - sent_kinds
    held = {OutboxKind(r.kind) for r in rows if r.deferrals > 0 and r.state == OutboxState.SENT}
    # Check-ins and reminders fall due inside hours by design, and the pass finds warnings whenever
    # a signal crosses its line: the kinds that people set off by acting all had to wait.
    acted = EXPECTED - {OutboxKind.CHECKIN_PROMPT, OutboxKind.CHECKIN_REMINDER, OutboxKind.DRIFT_WARNING,
                        OutboxKind.CONTACT_GAP}
    assert acted <= held, acted - held
    for row in rows:
        if row.deferrals:
            # It went at the first allowed moment: the first hourly pass at or after it.
            landed = dt.datetime.fromtimestamp(float(by_id[row.id].ts), UTC)
            first = hours[row.recipient].next_allowed(row.created_at)
            assert landed - first < dt.timedelta(hours=1), (row.kind, row.recipient, first, landed)
    sandbox.assert_no_violations()
