"""Slack waits 3 seconds for an ack. With a slow Slack (2 s a Web API call) and a 200-rep team
with history, the commands that do real work still ack in time, then finish through
response_url or views.update.

Run with production ack timing (process_before_response=False, `serve`'s default): the HTTP
response goes out when the listener calls ack(). Besides the deadline, each test checks the order
(ack first, work after), which holds however fast this machine is. Figures: bench/acks.py.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from core.clock import ManualClock
from core.config import parse_config
from handlers.render.guard_health import PREPARING
from sandbox.server import Sandbox
from storage.models import Answer, CheckIn
from wiring.harness import BotHarness

T = TypeVar("T")
MANAGER = "U0MANAGER"
REPS = [f"U0REP{n:03d}" for n in range(200)]
SLACK_DEADLINE = 3.0
LATENCY = 2.0


def wait_for(find: Callable[[], T | None], timeout: float = 60.0) -> T:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = find()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("the work after the ack never arrived")


@pytest.fixture
def slow_bot(sandbox: Sandbox, database_url: str, clock: ManualClock) -> Iterator[BotHarness]:
    sandbox.add_user(MANAGER, name="maya", tz="America/New_York")
    for n, rep in enumerate(REPS):
        sandbox.add_user(rep, name=f"rep{n:03d}", tz="Europe/Berlin")
    members = ", ".join(f'"{rep}"' for rep in REPS)
    # Everyone's hours allow messages at any time here: these tests are about acks, not respect.
    config = parse_config('[cadence]\nworking_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
                          'quiet_hours = { start = "04:37", end = "04:38" }\n'
                          f'[[teams]]\nname = "Big"\nmanager = "{MANAGER}"\nmembers = [{members}]\n')
    with BotHarness(sandbox, database_url, config, clock=clock, process_before_response=False) as bot:
        seed_history(bot)
        bot.slack.open_home(MANAGER)  # the Home tab with the "open the full report" button
        wait_for(lambda: "guard_show_health" in str((bot.sandbox.home_of(MANAGER) or {}).get("blocks")))
        sandbox.faults.latency(LATENCY)
        bot.slack.ack_deadline = SLACK_DEADLINE  # a slower ack is recorded as a violation too
        yield bot


def seed_history(bot: BotHarness, weeks: int = 8) -> None:
    """Eight weeks of answered check-ins for every rep: what the health report's trend reads."""
    now, team = bot.services.now(), bot.services.team_id
    with bot.services.sessions.begin() as session:
        for rep in REPS:
            for week in range(1, weeks + 1):
                sent = now - dt.timedelta(days=7 * week)
                checkin = CheckIn(team_id=team, rep_id=rep, kind="scheduled", due_at=sent, state="answered",
                                  attempts=1, snooze_count=0, sent_at=sent, closed_at=sent, created_at=sent)
                session.add(checkin)
                session.flush()
                session.add(Answer(team_id=team, checkin_id=checkin.id, rep_id=rep, text="Going fine",
                                   source="dm", created_at=sent, updated_at=sent))


def timed(send: Callable[[], object]) -> float:
    started = time.monotonic()
    response = send()
    took = time.monotonic() - started
    assert getattr(response, "status", None) == 200
    return took


def test_health_acks_in_time_then_responds(slow_bot: BotHarness) -> None:
    started = time.monotonic()
    response = slow_bot.slack.slash("health", user=MANAGER)
    took = time.monotonic() - started
    assert response.status == 200 and took < SLACK_DEADLINE
    # The ack only says the report is coming: the report itself is built after it.
    assert response.reply is not None and response.reply["text"] == PREPARING and not response.reply.get("blocks")
    report = wait_for(lambda: next((e for e in slow_bot.sandbox.ephemerals_to(MANAGER)
                                    if "Page 1 of" in str(e.blocks)), None))
    assert len(report.blocks) <= 50
    slow_bot.sandbox.assert_no_violations()


def test_the_full_report_opens_a_loading_modal_at_once_then_fills_it(slow_bot: BotHarness) -> None:
    took = timed(lambda: slow_bot.slack.click("guard_show_health", user=MANAGER,
                                              view=slow_bot.sandbox.home_of(MANAGER)))
    assert took < SLACK_DEADLINE
    # views.open used the trigger_id at once, before it expired, with a loading modal ...
    opened = wait_for(lambda: slow_bot.sandbox.calls_to("views.open"))
    assert opened[0].ok and PREPARING in str(opened[0].args.get("view"))
    # ... and views.update then replaced the loading text with the report.
    wait_for(lambda: "Page 1 of" in str(next(v for v in slow_bot.sandbox.views_of(MANAGER)
                                               if v["type"] == "modal")["blocks"]))
    [update] = slow_bot.sandbox.calls_to("views.update")
    assert update.ok and update.args.get("view_id") == opened[0].response["view"]["id"]
    slow_bot.sandbox.assert_no_violations()


def test_ask_acks_before_it_posts_the_question(slow_bot: BotHarness) -> None:
    rep = REPS[0]
    # Slow and rate-limited: the post waits 2 s, gets a 429, waits Retry-After, and waits 2 s again.
    slow_bot.sandbox.faults.rate_limit("chat.postMessage", times=1, retry_after=1)
    took = timed(lambda: slow_bot.slack.slash(f"ask <@{rep}> What would help you most this week?",
                                              user=MANAGER, escape=False))
    assert took < SLACK_DEADLINE
    wait_for(lambda: any("Sent to" in e.text for e in slow_bot.sandbox.ephemerals_to(MANAGER)))
    assert [m for m in slow_bot.sandbox.dms_to(rep) if m.event_type == "manager_question"]
    slow_bot.sandbox.assert_no_violations()
