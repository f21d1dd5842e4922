"""`/checkin cadence`: a manager proposes, the rep decides, and only an accepted cadence counts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.clock import ManualClock
from sandbox.models import Message
from storage.models import CadenceAgreement, CheckIn
from wiring.harness import BotHarness

# People in four zones message each other here; their hours are not what is tested (see conftest).
ANY_HOUR = True

MANAGER, REP2 = "U0MANAGER", "U0REP2"
UTC = dt.UTC


def proposals(bot: BotHarness, user: str) -> list[Message]:
    return [m for m in bot.sandbox.dms_to(user) if (m.metadata or {}).get("event_type") == "cadence_proposal"]


def planned(bot: BotHarness, rep: str) -> list[dt.datetime]:
    with bot.services.sessions.begin() as session:
        return list(session.scalars(select(CheckIn.due_at).where(
            CheckIn.rep_id == rep, CheckIn.kind == "scheduled", CheckIn.state == "scheduled")))


def agreements(bot: BotHarness) -> list[tuple[str, str | None, str | None, dt.date | None]]:
    with bot.services.sessions.begin() as session:
        return [(a.status, a.day, a.time, a.anchor) for a in session.scalars(
            select(CadenceAgreement).order_by(CadenceAgreement.id))]


def propose(bot: BotHarness, text: str) -> Message:
    assert bot.slack.slash(f"cadence <@{REP2}> {text}", user=MANAGER).status == 200
    assert "only if they accept" in bot.sandbox.ephemerals_to(MANAGER)[-1].text
    return proposals(bot, REP2)[-1]


def test_the_rep_gets_a_proposal_with_accept_and_decline_buttons(bot: BotHarness) -> None:
    bot.dispatch()
    proposal = propose(bot, "week tue 09:30")
    assert set(proposal.action_ids()) == {"cadence_accept", "cadence_decline"}
    assert proposal.event_payload["rep"] == REP2 and proposal.event_payload["manager"] == MANAGER
    assert "every week on Tue at 09:30" in proposal.text
    assert agreements(bot) == [("proposed", "tue", "09:30", None)]
    bot.sandbox.assert_no_violations()


def test_an_accepted_cadence_takes_effect_from_the_next_pass(bot: BotHarness) -> None:
    bot.dispatch()
    # Berlin's default slot: Monday 10:00 CET = 09:00 UTC.
    assert planned(bot, REP2) == [dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)]
    proposal = propose(bot, "week tue 09:30")
    bot.dispatch()
    assert planned(bot, REP2) == [dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)], "a proposal alone changes nothing"

    bot.slack.click("cadence_accept", user=REP2, message=proposal)
    assert agreements(bot) == [("accepted", "tue", "09:30", dt.date(2026, 3, 2))]
    assert planned(bot, REP2) == []
    outcome = proposals(bot, MANAGER)[-1]
    assert "accepted" in outcome.text and outcome.event_payload["rep"] == REP2
    bot.dispatch()
    assert planned(bot, REP2) == [dt.datetime(2026, 3, 3, 8, 30, tzinfo=UTC)]  # Tuesday 09:30 CET
    [answered] = [m for m in bot.sandbox.dms_to(REP2) if m.ts == proposal.ts]
    assert answered.text.startswith("Accepted") and answered.action_ids() == []
    bot.sandbox.assert_no_violations()


def test_a_declined_cadence_changes_nothing_and_the_manager_is_told(bot: BotHarness) -> None:
    bot.dispatch()
    proposal = propose(bot, "day 08:30")
    bot.slack.click("cadence_decline", user=REP2, message=proposal)
    assert agreements(bot)[0][0] == "declined"
    assert planned(bot, REP2) == [dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)]
    assert "keep the current rhythm" in proposals(bot, MANAGER)[-1].text


def test_a_newer_accepted_cadence_supersedes_the_earlier_one(bot: BotHarness, clock: ManualClock) -> None:
    bot.dispatch()
    bot.slack.click("cadence_accept", user=REP2, message=propose(bot, "week tue"))
    clock.advance(dt.timedelta(days=1))
    bot.slack.click("cadence_accept", user=REP2, message=propose(bot, "2 weeks thu 11:00"))
    assert [a[0] for a in agreements(bot)] == ["superseded", "accepted"]
    bot.dispatch()
    [due] = planned(bot, REP2)
    assert due.astimezone(dt.timezone(dt.timedelta(hours=1))).strftime("%a %H:%M") == "Thu 11:00"


def test_a_proposal_is_answered_once(bot: BotHarness) -> None:
    bot.dispatch()
    proposal = propose(bot, "week wed")
    bot.slack.click("cadence_accept", user=REP2, message=proposal)
    bot.slack.click("cadence_decline", user=REP2, message=proposal)
    assert agreements(bot)[0][0] == "accepted"
    assert len(proposals(bot, MANAGER)) == 1


def test_accepting_a_cadence_keeps_a_check_in_the_rep_snoozed(bot: BotHarness, clock: ManualClock) -> None:
    bot.slack.slash("goal add Land the Initech pilot", user=REP2)
    bot.dispatch()
    with bot.services.sessions.begin() as session:
        due = session.scalar(select(CheckIn.due_at).where(CheckIn.rep_id == REP2, CheckIn.state == "scheduled"))
    clock.set(due)
    bot.dispatch()
    bot.slack.click("checkin_snooze", user=REP2)
    bot.slack.click("cadence_accept", user=REP2, message=propose(bot, "week tue"))
    with bot.services.sessions.begin() as session:
        snoozed = session.scalars(select(CheckIn).where(CheckIn.rep_id == REP2, CheckIn.snoozed_until.is_not(None),
                                                        CheckIn.state == "scheduled")).all()
    assert len(snoozed) == 1
