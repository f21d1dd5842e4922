"""How a dispatch pass treats Slack errors, late check-ins and time zone changes, end to end."""

from __future__ import annotations

import datetime as dt
import logging
import socketserver
import threading
import time
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from sqlalchemy import select

from core.clock import ManualClock
from core.config import AdminConfig, parse_config
from core.services import make_web_client
from handlers.sender import post
from handlers.sweep import next_sweep
from storage.models import CheckIn, OutboxMessage, User
from wiring.harness import BOT_TOKEN, BotHarness

UTC = dt.UTC

DAILY = """
[cadence]
every = "day"

[[teams]]
name = "West"
manager = "U0MANAGER"
members = ["U0REP1", "U0REP2", "U0REP3"]
"""


@pytest.fixture
def admin_config() -> AdminConfig:
    return parse_config(DAILY, "daily config")


def prompts_to(bot: BotHarness, user: str) -> list:
    return [m for m in bot.sandbox.dms_to(user) if m.event_type == "checkin_prompt"]


def posts_to(bot: BotHarness, user: str) -> list:
    return [c for c in bot.sandbox.calls_to("chat.postMessage")
            if c.args.get("channel") in (user, bot.sandbox.im_channel(user))  # the user ID, or their IM
            and (c.args.get("metadata") or {}).get("event_type") == "checkin_prompt"]


def due_of(bot: BotHarness, user: str) -> CheckIn:
    with bot.services.sessions.begin() as session:
        row = session.scalar(select(CheckIn).where(CheckIn.rep_id == user, CheckIn.state == "scheduled")
                             .order_by(CheckIn.due_at).limit(1))
        assert row is not None, f"nothing scheduled for {user}"
        return row


def row(bot: BotHarness, checkin_id: int) -> CheckIn:
    with bot.services.sessions.begin() as session:
        found = session.get(CheckIn, checkin_id)
        assert found is not None
        return found


def next_event(bot: BotHarness, clock: ManualClock) -> dt.datetime:
    """Plan, move the clock to the earliest due check-in and run the pass there."""
    bot.dispatch()
    with bot.services.sessions.begin() as session:
        due = min(session.scalars(select(CheckIn.due_at).where(CheckIn.state == "scheduled")))
    clock.set(max(due, clock()))
    bot.dispatch()
    return due


# ---- transient errors -----------------------------------------------------------------------------


def test_a_rate_limited_send_waits_for_retry_after_and_is_sent_once(bot: BotHarness, clock: ManualClock) -> None:
    bot.dispatch()
    checkin = due_of(bot, "U0REP1")
    bot.sandbox.faults.rate_limit("chat.postMessage", times=1, retry_after=1)
    clock.set(checkin.due_at)
    started = time.monotonic()
    bot.dispatch()
    assert time.monotonic() - started >= 1.0, "the retry honoured Retry-After"
    assert [c.status for c in posts_to(bot, "U0REP1")] == [429, 200]
    [prompt] = prompts_to(bot, "U0REP1")
    assert prompt.event_payload["checkin_id"] == checkin.id
    assert row(bot, checkin.id).state == "sent"
    clock.advance(dt.timedelta(minutes=5))
    bot.dispatch()
    assert len(prompts_to(bot, "U0REP1")) == 1
    bot.sandbox.assert_no_violations()


def test_server_errors_are_retried_and_the_checkin_is_sent_once(bot: BotHarness, clock: ManualClock) -> None:
    bot.dispatch()
    checkin = due_of(bot, "U0REP1")
    bot.sandbox.faults.server_error("chat.postMessage", times=2, status=503)
    clock.set(checkin.due_at)
    bot.dispatch()
    assert [c.status for c in posts_to(bot, "U0REP1")] == [503, 503, 200]
    assert len(prompts_to(bot, "U0REP1")) == 1
    assert row(bot, checkin.id).state == "sent"
    bot.sandbox.assert_no_violations()


def test_a_send_that_keeps_failing_waits_for_the_next_pass_and_is_sent_once(
    bot: BotHarness, clock: ManualClock
) -> None:
    bot.dispatch()
    checkin = due_of(bot, "U0REP1")
    bot.sandbox.faults.server_error("chat.postMessage", times=3, status=500)  # one more than the client retries
    clock.set(checkin.due_at)
    report = bot.dispatch()
    assert report.get("retry_later") == 1 and prompts_to(bot, "U0REP1") == []
    failed = row(bot, checkin.id)
    assert failed.state == "scheduled" and failed.last_error
    bot.dispatch()  # a second pass at the same moment leaves it for later
    assert len(posts_to(bot, "U0REP1")) == 3
    clock.advance(dt.timedelta(minutes=1))
    bot.dispatch()
    [prompt] = prompts_to(bot, "U0REP1")
    assert prompt.event_payload["checkin_id"] == checkin.id
    assert row(bot, checkin.id).state == "sent"
    bot.sandbox.assert_no_violations()


@pytest.mark.parametrize("apply", [True, False], ids=["slack-did-post", "slack-lost-it"])
def test_a_timed_out_send_is_looked_up_in_slack_before_it_is_sent_again(
    bot: BotHarness, clock: ManualClock, apply: bool
) -> None:
    """A timeout doesn't say whether Slack posted the message: ask Slack before trying again."""
    bot.services.client = make_web_client(BOT_TOKEN, bot.sandbox.api_url, timeout=1)
    bot.dispatch()
    checkin = due_of(bot, "U0REP1")
    bot.sandbox.faults.timeout("chat.postMessage", times=1, seconds=1.5, apply=apply)
    clock.set(checkin.due_at)
    bot.dispatch()
    if apply:
        bot.sandbox.wait_for(lambda: prompts_to(bot, "U0REP1"))
    else:
        time.sleep(0.6)  # the sandbox finishes the (lost) call
    with bot.services.sessions.begin() as session:  # the outcome is unknown: the row stays claimed
        assert session.scalar(select(OutboxMessage.state).where(OutboxMessage.checkin_id == checkin.id)) == "claimed"
    # The next pass looks in the DM first: it finds the post Slack did make, or posts once.
    clock.set(checkin.due_at + dt.timedelta(minutes=1))
    bot.dispatch()
    bot.dispatch()
    [prompt] = prompts_to(bot, "U0REP1")
    assert prompt.event_payload["checkin_id"] == checkin.id
    assert len(posts_to(bot, "U0REP1")) == (1 if apply else 2)
    sent = row(bot, checkin.id)
    assert (sent.state, sent.message_ts) == ("sent", prompt.ts)
    bot.sandbox.assert_no_violations()


def test_a_connection_dropped_after_the_request_went_out_is_not_retried_blindly() -> None:
    """slack_sdk would retry such a post at once; Slack may have posted it, so it counts as unknown
    (looked up after the claim lease, as above) and is sent once, not three times."""
    received: list[bytes] = []

    class HangUp(socketserver.BaseRequestHandler):
        def handle(self) -> None:  # read the whole request, then close without answering
            data = b""
            while b"\r\n\r\n" not in data:
                data += self.request.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            while len(body) < length:
                body += self.request.recv(65536)
            received.append(body)

    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), HangUp) as server:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        client = make_web_client(BOT_TOKEN, f"http://127.0.0.1:{server.server_address[1]}/api/")
        result = post(client, channel="U0REP1", text="Check-in")
        server.shutdown()
    assert result.outcome == "unknown"
    assert len(received) == 1
    assert any(isinstance(h, ConnectionErrorRetryHandler) for h in client.retry_handlers), "the client itself is unchanged"


# ---- permanent errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("error", ["user_not_found", "cannot_dm_bot"])
def test_a_permanent_error_parks_only_that_rep_and_is_logged_once(
    bot: BotHarness, clock: ManualClock, caplog: pytest.LogCaptureFixture, error: str
) -> None:
    caplog.set_level(logging.WARNING)
    bot.sandbox.faults.slack_error("chat.postMessage", error, user="U0REP2")
    for _ in range(12):  # four working days of three reps
        next_event(bot, clock)
    assert prompts_to(bot, "U0REP2") == []
    assert len(posts_to(bot, "U0REP2")) == 1, "one try, then the rep is parked"
    with bot.services.sessions.begin() as session:
        parked = session.scalar(select(User).where(User.slack_id == "U0REP2"))
        assert parked is not None and parked.parked_reason == error
        open_rows = session.scalars(select(CheckIn).where(CheckIn.rep_id == "U0REP2",
                                                          CheckIn.state.in_(("scheduled", "sending")))).all()
        assert open_rows == []
    assert len([r for r in caplog.records if "U0REP2" in r.getMessage()]) == 1
    for rep in ("U0REP1", "U0REP3"):
        assert len(prompts_to(bot, rep)) >= 4, rep
    bot.sandbox.assert_no_violations()


def test_a_rep_who_left_slack_is_parked_from_users_info(bot: BotHarness, clock: ManualClock,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    bot.sandbox.deactivate_user("U0REP3")
    for _ in range(8):
        next_event(bot, clock)
    assert prompts_to(bot, "U0REP3") == [] and posts_to(bot, "U0REP3") == []
    with bot.services.sessions.begin() as session:
        parked = session.scalar(select(User).where(User.slack_id == "U0REP3"))
        assert parked is not None and parked.parked_reason == "account_inactive"
    assert len([r for r in caplog.records if "U0REP3" in r.getMessage()]) == 1
    assert len(prompts_to(bot, "U0REP1")) >= 3 and len(prompts_to(bot, "U0REP2")) >= 3


# ---- the bot was down ------------------------------------------------------------------------------

LATE = """
[cadence]
every = "day"
time = "09:00"

[[teams]]
name = "West"
manager = "U0MANAGER"
members = ["U0REP1"]

[[teams]]
name = "Night owls"
manager = "U0OTHERMGR"
members = ["U0REP2"]
# Quiet only 23:00-07:00, so in the evening lateness alone decides.
cadence = { quiet_hours = { start = "23:00", end = "07:00" } }
"""


@pytest.mark.parametrize("admin_config", [parse_config(LATE, "late config")], ids=["late"])
@pytest.mark.parametrize("rep,late,zone,expect", [
    ("U0REP1", dt.timedelta(hours=5), "America/Los_Angeles", "sent"),       # 14:00 local
    ("U0REP1", dt.timedelta(hours=9, minutes=30), "America/Los_Angeles", "expired"),  # 18:30: quiet
    ("U0REP2", dt.timedelta(hours=11, minutes=59), "Europe/Berlin", "sent"),   # 20:59, inside 12 h
    ("U0REP2", dt.timedelta(hours=12, minutes=1), "Europe/Berlin", "expired"),  # 21:01: allowed but too late
])
def test_a_checkin_missed_while_the_bot_was_down_is_sent_late_only_within_12_hours_and_allowed_hours(
    bot: BotHarness, clock: ManualClock, rep: str, late: dt.timedelta, zone: str, expect: str
) -> None:
    bot.dispatch()
    missed = due_of(bot, rep)
    assert missed.due_at.astimezone(ZoneInfo(zone)).time() == dt.time(9, 0)
    clock.set(missed.due_at + late)  # the first pass after the outage
    bot.dispatch()
    bot.dispatch()  # plans the next one
    after = row(bot, missed.id)
    assert after.state == expect
    prompts = prompts_to(bot, rep)
    if expect == "sent":
        [prompt] = prompts
        assert after.sent_at == clock() and prompt.event_payload["checkin_id"] == missed.id
    else:
        assert prompts == []
        assert after.last_error in ("late", "outside_allowed_hours")
    # No catching up twice: the next one comes at the next slot, once.
    following = due_of(bot, rep)
    assert following.due_at > clock()
    assert following.due_at.astimezone(ZoneInfo(zone)).time() == dt.time(9, 0)
    clock.set(following.due_at)
    bot.dispatch()
    bot.dispatch()
    assert len(prompts_to(bot, rep)) == (2 if expect == "sent" else 1)
    bot.sandbox.assert_no_violations()


# ---- time zones -------------------------------------------------------------------------------------


def test_the_zone_comes_from_a_users_list_sweep_and_a_move_from_user_change_at_once(
    bot: BotHarness, clock: ManualClock
) -> None:
    bot.dispatch()
    with bot.services.sessions.begin() as session:
        user = session.scalar(select(User).where(User.slack_id == "U0REP1"))
        assert user is not None and user.tz == "America/Los_Angeles"
    assert bot.sandbox.calls_to("users.info") == [], "the sweep saw everyone: no lookup one by one"
    assert len(bot.sandbox.calls_to("users.list")) == 1
    first = due_of(bot, "U0REP1")
    assert first.due_at == dt.datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # 10:00 PST, learnt in the same pass
    clock.set(first.due_at)
    bot.dispatch()
    bot.dispatch()  # plans Tuesday's, in the zone known then
    assert due_of(bot, "U0REP1").due_at == dt.datetime(2026, 3, 3, 18, 0, tzinfo=UTC)
    [prompt] = prompts_to(bot, "U0REP1")
    # The sandbox keeps message ts unique by adding microseconds when two posts share a moment.
    sent = dt.datetime.fromtimestamp(float(prompt.ts), UTC).replace(microsecond=0)
    assert sent == dt.datetime(2026, 3, 2, 18, 0, tzinfo=UTC)

    bot.sandbox.update_user("U0REP1", tz="America/New_York")  # ana moves east; Slack says so
    assert bot.slack.user_change("U0REP1").status == 200
    with bot.services.sessions.begin() as session:
        user = session.scalar(select(User).where(User.slack_id == "U0REP1"))
        assert user is not None and user.tz == "America/New_York"
    for _ in range(2):
        due = due_of(bot, "U0REP1").due_at
        clock.set(due)
        bot.dispatch()
        bot.dispatch()
    times = [dt.datetime.fromtimestamp(float(m.ts), UTC).replace(microsecond=0) for m in prompts_to(bot, "U0REP1")]
    # Tuesday and Wednesday at 10:00 in New York (UTC-5), not 10:00 in Los Angeles (18:00 UTC).
    assert times[1:] == [dt.datetime(2026, 3, 3, 15, 0, tzinfo=UTC), dt.datetime(2026, 3, 4, 15, 0, tzinfo=UTC)]
    assert bot.sandbox.calls_to("users.info") == []
    assert len(bot.sandbox.calls_to("users.list")) <= 3, "at most one sweep a day, not one a pass"
    bot.sandbox.assert_no_violations()


def test_a_move_without_an_event_is_picked_up_by_the_next_daily_sweep(bot: BotHarness, clock: ManualClock) -> None:
    start = clock()
    bot.dispatch()
    bot.sandbox.update_user("U0REP1", tz="America/New_York")  # no user_change reached the bot
    due = next_sweep(bot.services.team_id, start)
    assert dt.timedelta(hours=24) <= due - start < dt.timedelta(hours=48), "daily, at the workspace's slot"

    def zone() -> str | None:
        with bot.services.sessions.begin() as session:
            user = session.scalar(select(User).where(User.slack_id == "U0REP1"))
            return user.tz if user else None

    for hours in range(1, int((due - start).total_seconds() // 3600)):
        clock.set(start + dt.timedelta(hours=hours))
        bot.dispatch()
    assert zone() == "America/Los_Angeles" and len(bot.sandbox.calls_to("users.list")) == 1
    time.sleep(3.5)  # users.list is Tier 2 (about one call every 3 s): the budget refills in real time
    clock.set(due)
    bot.dispatch()
    assert zone() == "America/New_York"
    assert len(bot.sandbox.calls_to("users.list")) == 2


# ---- snoozes ----------------------------------------------------------------------------------------

NINE = """
[cadence]
every = "day"
time = "09:00"

[[teams]]
name = "West"
manager = "U0MANAGER"
members = ["U0REP2"]
"""


@pytest.mark.parametrize("admin_config", [parse_config(NINE, "nine config")], ids=["nine"])
def test_a_snooze_onto_the_next_scheduled_slot_brings_back_one_checkin(bot: BotHarness, clock: ManualClock) -> None:
    bot.dispatch()
    first = due_of(bot, "U0REP2")
    assert first.due_at == dt.datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Berlin
    clock.set(first.due_at)
    bot.dispatch()
    bot.dispatch()  # plans Wednesday 09:00
    clock.set(dt.datetime(2026, 3, 3, 16, 30, tzinfo=UTC))  # 17:30: in two hours it is quiet until 09:00
    response = bot.slack.click("checkin_snooze", user="U0REP2")
    assert response.status == 200
    assert row(bot, first.id).due_at == dt.datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
    for moment in (dt.datetime(2026, 3, 4, 8, 0, tzinfo=UTC), dt.datetime(2026, 3, 5, 8, 0, tzinfo=UTC)):
        clock.set(moment)
        bot.dispatch()
        bot.dispatch()
    prompts = prompts_to(bot, "U0REP2")
    sent = [(dt.datetime.fromtimestamp(float(m.ts), UTC).replace(microsecond=0), m.event_payload["checkin_id"])
            for m in prompts]
    # Tuesday's, Tuesday's again on Wednesday morning (not a second one beside it), then Thursday's.
    assert [s[0].day for s in sent] == [3, 4, 5]
    assert sent[0][1] == sent[1][1] == first.id != sent[2][1]
    bot.sandbox.assert_no_violations()


def test_one_channel_not_found_is_retried_and_parks_no_one(bot: BotHarness, clock: ManualClock) -> None:
    bot.dispatch()
    checkin = due_of(bot, "U0REP1")
    bot.sandbox.faults.slack_error("chat.postMessage", "channel_not_found", user="U0REP1", times=1)
    clock.set(checkin.due_at)
    report = bot.dispatch()
    assert report.get("retry_later") == 1 and report.get("parked") == 0
    clock.advance(dt.timedelta(minutes=1))  # the first back-off
    bot.dispatch()
    [prompt] = prompts_to(bot, "U0REP1")
    assert prompt.event_payload["checkin_id"] == checkin.id
    with bot.services.sessions.begin() as session:
        user = session.scalar(select(User).where(User.slack_id == "U0REP1"))
        assert user is not None and user.parked_reason is None


def test_a_lasting_channel_not_found_parks_the_rep_on_the_third_try(bot: BotHarness, clock: ManualClock) -> None:
    bot.dispatch()
    checkin = due_of(bot, "U0REP1")
    bot.sandbox.faults.slack_error("chat.postMessage", "channel_not_found", user="U0REP1")
    clock.set(checkin.due_at)
    for _ in range(6):  # back-offs of 1 and 2 minutes between the three tries
        bot.dispatch()
        clock.advance(dt.timedelta(minutes=2))
    assert len(posts_to(bot, "U0REP1")) == 3 and prompts_to(bot, "U0REP1") == []
    with bot.services.sessions.begin() as session:
        user = session.scalar(select(User).where(User.slack_id == "U0REP1"))
        assert user is not None and user.parked_reason == "channel_not_found"
    assert row(bot, checkin.id).state == "expired"
