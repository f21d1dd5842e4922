"""The help-nudge step: due after the manager's working days, queued once, dropped once answered."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from core.config import parse_config
from core.services import Services
from handlers.delivery import drain
from scheduling.dispatch import FOLLOW_UP_STEPS
from scheduling.help_nudges import enqueue_help_nudges
from scheduling.report import PassReport
from storage import conversation
from storage.models import CheckIn, HelpRequest, OutboxMessage, User
from storage.people import sync_config_teams
from tests.inline_transport import InlineTransport
from tests.scheduling.test_warnings import CONFIG_TEXT, FakeSlack, T, services

# Monday 2 March 2026, 15:00 UTC: 10:00 in New York, the manager's zone below.
ASKED = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


def ask(sessions: sessionmaker[Session], config_text: str = CONFIG_TEXT) -> int:
    with sessions.begin() as session:
        sync_config_teams(session, T, parse_config(config_text), ASKED)
        for user in session.scalars(select(User)):
            user.tz = "America/New_York" if user.slack_id == "U0MANAGER" else "Europe/Berlin"
        checkin = CheckIn(team_id=T, rep_id="U0REP1", kind="scheduled", due_at=ASKED, state="sent", attempts=1,
                          snooze_count=0, sent_at=ASKED, created_at=ASKED, channel="D0REP1", message_ts="1.0")
        session.add(checkin)
        session.flush()
        conversation.ask(session, checkin, "button", ASKED)
        return checkin.id


def run(svc: Services, now: dt.datetime) -> PassReport:
    report = PassReport()
    enqueue_help_nudges(svc, now, report)
    drain(svc, now, report, transport=InlineTransport)
    return report


def test_the_step_is_planned_with_the_other_follow_ups() -> None:
    assert enqueue_help_nudges in FOLLOW_UP_STEPS


def test_one_nudge_to_the_manager_after_two_of_their_working_days(engine: Engine,
                                                                  sessions: sessionmaker[Session]) -> None:
    slack = FakeSlack()
    svc = services(engine, sessions, slack, parse_config(CONFIG_TEXT))
    ask(sessions)
    run(svc, ASKED + dt.timedelta(days=1, hours=23, minutes=59))
    assert slack.posts == [], "not yet two working days"
    run(svc, ASKED + dt.timedelta(days=2))
    assert [p["channel"] for p in slack.posts] == ["U0MANAGER"]
    assert slack.kinds() == ["checkin_reminder"] and "help_resolve" in str(slack.posts[0]["blocks"])
    for hours in (1, 24, 72):
        run(svc, ASKED + dt.timedelta(days=2, hours=hours))
    assert len(slack.posts) == 1, "one nudge, never a second"


def test_a_request_answered_meanwhile_is_not_nudged(engine: Engine, sessions: sessionmaker[Session]) -> None:
    slack = FakeSlack()
    svc = services(engine, sessions, slack, parse_config(CONFIG_TEXT))
    ask(sessions)
    run(svc, ASKED + dt.timedelta(days=2, hours=-1))  # not due yet
    with sessions.begin() as session:
        request = session.scalar(select(HelpRequest))
        assert request is not None
        conversation.resolve(session, request, "U0MANAGER", ASKED + dt.timedelta(days=1))
    run(svc, ASKED + dt.timedelta(days=3))
    assert slack.posts == []


def test_zero_working_days_turns_the_nudge_off(engine: Engine, sessions: sessionmaker[Session]) -> None:
    text = CONFIG_TEXT.replace("[guard]", "[guard]\nhelp_nudge_working_days = 0")
    slack = FakeSlack()
    svc = services(engine, sessions, slack, parse_config(text))
    ask(sessions, text)
    run(svc, ASKED + dt.timedelta(days=10))
    with sessions.begin() as session:
        assert session.scalars(select(OutboxMessage)).all() == []
