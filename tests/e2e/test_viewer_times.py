"""Times shown to people are Slack date tokens, so each viewer sees their own zone and format; the
fallback text is in the viewer's zone (a manager in New York reading about a rep in Los Angeles)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.clock import ManualClock
from storage.models import CheckIn
from wiring.harness import BotHarness

MANAGER, REP1 = "U0MANAGER", "U0REP1"
NEW_YORK = ZoneInfo("America/New_York")
TOKEN = re.compile(r"<!date\^(\d+)\^\{date_short_pretty\} \{time\}\|([^>]+)>")


def tokens(text: str) -> list[tuple[dt.datetime, str]]:
    return [(dt.datetime.fromtimestamp(int(unix), dt.UTC), fallback) for unix, fallback in TOKEN.findall(text)]


def in_new_york(moment: dt.datetime) -> str:
    local = moment.astimezone(NEW_YORK)
    return f"{local:%a %d %b, %H:%M} {local.tzname()}"


def test_a_question_held_for_the_reps_morning_tells_the_manager_when_in_the_managers_zone(
        bot: BotHarness, clock: ManualClock) -> None:
    # Monday 2 March 2026, 08:00 UTC: midnight for Ana in Los Angeles, 03:00 for Maya in New York.
    bot.dispatch()
    bot.slack.slash("ask @ana What would help you most with Acme this week?", user=MANAGER)
    note = [e for e in bot.sandbox.ephemerals_to(MANAGER) if e.source != "ack"][-1].text
    [(when, fallback)] = tokens(note)
    # Her day starts at 09:00 PST, 17:00 UTC; Maya's fallback reads 12:00 EST, not Ana's 09:00 PST.
    assert when == dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)
    assert fallback == "Mon 02 Mar, 12:00 EST" == in_new_york(when)
    bot.sandbox.assert_no_violations()


def test_the_managers_app_home_shows_next_checkins_as_tokens_in_the_managers_zone(bot: BotHarness) -> None:
    bot.dispatch()
    bot.slack.open_home(MANAGER)
    home = str(bot.sandbox.home_of(MANAGER))
    with bot.services.sessions.begin() as session:
        due = session.scalar(select(CheckIn.due_at).where(CheckIn.rep_id == REP1, CheckIn.state == "scheduled")
                             .order_by(CheckIn.due_at).limit(1))
    assert due is not None
    found = dict(tokens(home))
    assert due.replace(microsecond=0) in found, "Ana's next check-in, as the moment it is"
    assert found[due.replace(microsecond=0)] == in_new_york(due)
    assert all(f.endswith(("EST", "EDT")) for f in found.values()), "every fallback in Maya's zone"
    bot.sandbox.assert_no_violations()


def test_a_rep_sees_their_own_next_checkin_with_the_fallback_in_their_zone(bot: BotHarness) -> None:
    bot.dispatch()
    bot.slack.open_home(REP1)
    [(_, fallback)] = tokens(str(bot.sandbox.home_of(REP1)))
    assert fallback.endswith(("PST", "PDT"))


def _plain_texts(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [str(node.get("text"))] if node.get("type") == "plain_text" else []
        return found + [t for value in node.values() for t in _plain_texts(value)]
    if isinstance(node, list):
        return [t for value in node for t in _plain_texts(value)]
    return []


def test_no_token_lands_where_slack_shows_text_as_typed(bot: BotHarness, clock: ManualClock) -> None:
    bot.dispatch()
    clock.advance(dt.timedelta(hours=10))  # Ana's check-in is out; she snoozes it
    bot.dispatch()
    [prompt] = [m for m in bot.sandbox.dms_to(REP1) if "checkin_snooze" in m.action_ids()]
    bot.slack.click("checkin_snooze", user=REP1, message=prompt)
    assert tokens(str(bot.sandbox.dms_to(REP1)[-1].blocks)), "the snooze note says when, as a token"
    for person in (MANAGER, REP1):
        bot.slack.open_home(person)
    bot.slack.slash("summary csv", user=MANAGER)
    calls = [c.args for c in bot.sandbox.calls if c.method in ("chat.postMessage", "chat.update", "views.publish",
                                                                "views.open", "views.update")]
    plain = [t for args in calls for t in _plain_texts(args.get("blocks") or args.get("view") or [])]
    assert plain and not [t for t in plain if "<!date" in t]
    assert all(b"<!date" not in (f.content or b"") for f in bot.sandbox.files)
