"""The drift-warning step: cooldown per manager and signal, hysteresis, claims and retries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from core.config import AdminConfig, parse_config
from core.services import Services
from core.settings import Settings
from handlers.delivery import drain
from scheduling.dispatch import FOLLOW_UP_STEPS
from scheduling.report import PassReport
from scheduling.warnings import enqueue_warnings
from storage.models import CheckIn, User, WarningClaim, WarningSent
from storage.people import sync_config_teams
from tests.inline_transport import InlineTransport

T = "T0TEST"
START = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
CONFIG_TEXT = """
[guard]
warning_cooldown_days = 7

[[teams]]
name = "West"
manager = "U0MANAGER"
members = ["U0REP1", "U0REP2"]
"""
CONFIG = parse_config(CONFIG_TEXT)


class _Response(dict[str, Any]):
    status_code = 200


class FakeSlack:
    """Just enough of a WebClient for the step: records DMs, or fails with a Slack error."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.error: str | None = None

    def chat_postMessage(self, **kwargs: Any) -> dict[str, Any]:  # noqa: N802 - the WebClient's name
        if self.error:
            raise SlackApiError(self.error, _Response(ok=False, error=self.error))
        self.posts.append(kwargs)
        return {"ok": True, "channel": "D0MANAGER", "ts": f"{len(self.posts)}.000"}

    def kinds(self) -> list[str]:
        return [p["metadata"]["event_type"] for p in self.posts]


def services(engine: Engine, sessions: sessionmaker[Session], slack: FakeSlack,
             config: AdminConfig = CONFIG) -> Services:
    return Services(settings=Settings(), config=config, engine=engine, sessions=sessions,
                    client=slack,  # type: ignore[arg-type]
                    team_id=T)


def enrol(sessions: sessionmaker[Session], at: dt.datetime = START) -> None:
    with sessions.begin() as session:
        sync_config_teams(session, T, CONFIG, at)
        for user in session.scalars(select(User)):
            user.created_at = at


def touch(sessions: sessionmaker[Session], rep: str, at: dt.datetime) -> None:
    with sessions.begin() as session:
        session.add(CheckIn(team_id=T, rep_id=rep, kind="scheduled", due_at=at, state="answered", attempts=1,
                            snooze_count=0, sent_at=at, created_at=at))


def run(svc: Services, now: dt.datetime) -> PassReport:
    report = PassReport()
    enqueue_warnings(svc, now, report)
    drain(svc, now, report, transport=InlineTransport)
    return report


def test_every_pass_runs_the_warning_step_once() -> None:
    assert FOLLOW_UP_STEPS.count(enqueue_warnings) == 1


def test_one_nudge_per_manager_bundles_every_rep_with_a_gap(engine: Engine, sessions: sessionmaker[Session]) -> None:
    enrol(sessions)
    slack = FakeSlack()
    svc = services(engine, sessions, slack)
    run(svc, START + dt.timedelta(days=15))
    assert slack.kinds() == ["contact_gap"]
    payload = slack.posts[0]["metadata"]["event_payload"]
    assert payload["manager"] == "U0MANAGER" and payload["reps"] == ["U0REP1", "U0REP2"]
    assert slack.posts[0]["channel"] == "U0MANAGER"
    with sessions.begin() as session:
        assert len(session.scalars(select(WarningSent)).all()) == 2
        assert session.scalar(select(WarningClaim.message_ts)) == "1.000"


def test_the_same_signal_is_not_warned_again_within_the_cooldown_whichever_rep(
        engine: Engine, sessions: sessionmaker[Session]) -> None:
    enrol(sessions)
    touch(sessions, "U0REP2", START + dt.timedelta(days=5))  # REP2's gap opens later than REP1's
    slack = FakeSlack()
    svc = services(engine, sessions, slack)
    run(svc, START + dt.timedelta(days=15))
    assert slack.posts[0]["metadata"]["event_payload"]["reps"] == ["U0REP1"]
    run(svc, START + dt.timedelta(days=20))  # REP2 now has a gap too, but within the cooldown
    assert len(slack.posts) == 1
    run(svc, START + dt.timedelta(days=22, hours=1))  # past the cooldown: REP2 is new, REP1 not re-armed
    assert len(slack.posts) == 2 and slack.posts[1]["metadata"]["event_payload"]["reps"] == ["U0REP2"]


def test_a_signal_that_re_arms_warns_again_after_one_cooldown_else_after_two(
        engine: Engine, sessions: sessionmaker[Session]) -> None:
    enrol(sessions)
    slack = FakeSlack()
    # Daily reps: 1.5 agreed intervals (2.1 days) is under the 3-day floor, so the floor is the gap.
    svc = services(engine, sessions, slack, parse_config(
        '[cadence]\nevery = "day"\n' + CONFIG_TEXT.replace("[guard]", "[guard]\ncontact_gap_days = 3")))
    day = lambda n: START + dt.timedelta(days=n)  # noqa: E731
    run(svc, day(3))
    assert slack.posts[0]["metadata"]["event_payload"]["reps"] == ["U0REP1", "U0REP2"]
    touch(sessions, "U0REP1", day(4))
    run(svc, day(5))  # REP1's gap closed (below the re-arm level): its warning re-arms
    with sessions.begin() as session:
        rearmed = {w.rep_id: w.rearmed for w in session.scalars(select(WarningSent))}
        assert rearmed == {"U0REP1": True, "U0REP2": False}
    run(svc, day(10.5))  # one cooldown on: REP1 has a new gap and re-armed; REP2 never re-armed
    assert len(slack.posts) == 1  # found at midnight, the manager's quiet hours: it waits for 09:00
    run(svc, day(10.5) + dt.timedelta(hours=9))
    assert len(slack.posts) == 2 and slack.posts[1]["metadata"]["event_payload"]["reps"] == ["U0REP1"]
    run(svc, day(18))  # two cooldowns on: one gentle reminder about REP2's lasting gap
    assert len(slack.posts) == 3 and "U0REP2" in slack.posts[2]["metadata"]["event_payload"]["reps"]


def test_a_failed_send_is_retried_from_the_outbox_once(engine: Engine, sessions: sessionmaker[Session]) -> None:
    enrol(sessions)
    slack = FakeSlack()
    svc = services(engine, sessions, slack)
    slack.error = "internal_error"
    report = run(svc, START + dt.timedelta(days=15))
    assert report.get("retry_later") == 1 and slack.posts == []
    with sessions.begin() as session:
        # The claim and the records stay: the outbox row is retried, so nothing is evaluated twice.
        assert len(session.scalars(select(WarningClaim)).all()) == 1
        assert session.scalar(select(WarningClaim.message_ts)) is None
    slack.error = None
    run(svc, START + dt.timedelta(days=15, minutes=1))
    run(svc, START + dt.timedelta(days=15, minutes=2))
    assert slack.kinds() == ["contact_gap"]
    with sessions.begin() as session:
        assert session.scalar(select(WarningClaim.message_ts)) == "1.000"


def test_a_second_pass_the_same_day_finds_the_claim_taken(engine: Engine, sessions: sessionmaker[Session]) -> None:
    enrol(sessions)
    slack = FakeSlack()
    svc = services(engine, sessions, slack)
    # With no cooldown, only the daily claim keeps it to one DM a day.
    svc.config = parse_config(CONFIG_TEXT.replace("warning_cooldown_days = 7", "warning_cooldown_days = 0"))
    run(svc, START + dt.timedelta(days=15))
    run(svc, START + dt.timedelta(days=15, hours=6))
    assert len(slack.posts) == 1
    run(svc, START + dt.timedelta(days=16))
    assert len(slack.posts) == 2
