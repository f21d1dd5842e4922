"""Consent: only a manager or an admin invites, and an unanswered or declined invitation enrols no one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from core.clock import ManualClock
from storage.models import CheckIn, Membership
from wiring.harness import BotHarness

# People in several zones message each other here; their hours are not what is tested (see conftest).
ANY_HOUR = True

MANAGER, OTHER, REP1, REP2, ADMIN, NEW = "U0MANAGER", "U0OTHERMGR", "U0REP1", "U0REP2", "U0ADMIN", "U0NEWBIE"


def memberships(bot: BotHarness, rep: str) -> list[str]:
    with bot.services.sessions.begin() as session:
        return sorted(session.scalars(select(Membership.status).where(Membership.rep_id == rep)))


def checkins_of(bot: BotHarness, rep: str) -> int:
    with bot.services.sessions.begin() as session:
        return session.scalar(select(func.count()).select_from(CheckIn).where(CheckIn.rep_id == rep)) or 0


def prompts_to(bot: BotHarness, rep: str) -> int:
    return sum((m.metadata or {}).get("event_type") == "checkin_prompt" for m in bot.sandbox.dms_to(rep))


def a_week_of_passes(bot: BotHarness, clock: ManualClock) -> None:
    """Dispatch passes at every moment something is due, for eight days."""
    end = clock() + dt.timedelta(days=8)
    bot.dispatch()
    while True:
        with bot.services.sessions.begin() as session:
            due = session.scalar(select(func.min(CheckIn.due_at)).where(CheckIn.state == "scheduled"))
        if due is None or due > end:
            return
        clock.set(max(due, clock()))
        bot.dispatch()


def test_a_rep_cannot_invite_anyone(bot: BotHarness) -> None:
    bot.sandbox.add_user(NEW, name="nia", tz="UTC")
    response = bot.slack.slash(f"team add <@{NEW}>", user=REP1)
    assert response.status == 200 and "Only a team's manager or an admin" in response.reply_text
    assert memberships(bot, NEW) == []
    assert bot.sandbox.dms_to(NEW) == []


def test_an_admin_may_invite(bot: BotHarness) -> None:
    bot.sandbox.add_user(NEW, name="nia", tz="UTC")
    bot.slack.slash(f"team add <@{NEW}>", user=ADMIN)
    assert memberships(bot, NEW) == ["pending"]


def test_a_pending_invitation_plans_and_sends_nothing(bot: BotHarness, clock: ManualClock) -> None:
    bot.sandbox.add_user(NEW, name="nia", tz="UTC")
    bot.slack.slash(f"team add <@{NEW}>", user=OTHER)
    assert memberships(bot, NEW) == ["pending"]
    a_week_of_passes(bot, clock)
    assert checkins_of(bot, NEW) == 0 and prompts_to(bot, NEW) == 0


def test_a_declined_invitation_plans_and_sends_nothing(bot: BotHarness, clock: ManualClock) -> None:
    bot.sandbox.add_user(NEW, name="nia", tz="UTC")
    bot.slack.slash(f"team add <@{NEW}>", user=OTHER)
    bot.slack.click("team_join_decline", user=NEW)
    assert memberships(bot, NEW) == []
    a_week_of_passes(bot, clock)
    assert checkins_of(bot, NEW) == 0 and prompts_to(bot, NEW) == 0


def test_an_accepted_invitation_enrols_the_rep(bot: BotHarness, clock: ManualClock) -> None:
    bot.sandbox.add_user(NEW, name="nia", tz="UTC")
    bot.slack.slash(f"team add <@{NEW}>", user=OTHER)
    bot.slack.click("team_join_accept", user=NEW)
    a_week_of_passes(bot, clock)
    assert prompts_to(bot, NEW) >= 1  # the same passes that sent nothing above do send once consented
