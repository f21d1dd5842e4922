"""Forged button values and private_metadata: a polite refusal, no crash, nothing changed.

Row IDs are parsed from ASCII digits only. Python's int() also reads other scripts' digits
("١" and "１" are 1), and raises on "²" though str.isdigit() accepts it; a lenient parse would
either crash or act on a real row. The forgeries below name ids 1 and 2 in those ways, and real
rows with those ids exist, so acting on one shows up in the database snapshot.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from core.clock import ManualClock
from handlers.context import REFUSAL, parse_id
from handlers.errors import SORRY
from storage.models import Answer, Base, CheckIn, Goal, ManagerQuestion, Membership
from wiring.harness import BotHarness

# People in several zones message each other here; their hours are not what is tested (see conftest).
ANY_HOUR = True

REP, MANAGER = "U0REP1", "U0MANAGER"
# Other scripts' digits: int() reads the first three; "²"-style superscripts make it raise.
SCRIPTS = ["٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９", "०१२३४५६७८९", "⁰¹²³⁴⁵⁶⁷⁸⁹"]
JUNK = ["-1", "0", "", "1e0", "0x1", "99999999999", "2147483648", "1" * 40]


def lookalikes(n: int) -> list[str]:
    """Forgeries of the id `n` that a lenient parse would read as `n` (or choke on)."""
    text = str(n)
    return [*(text.translate(str.maketrans("0123456789", digits)) for digits in SCRIPTS),
            f"{text}²", f"+{text}", f" {text}", f"{text} ", f"{text}.0", f"{text}\n"]


def test_parse_id_takes_ascii_digits_in_the_id_range_only() -> None:
    assert [parse_id(v) for v in ("1", "2147483647", "0042")] == [1, 2147483647, 42]
    forged = [*lookalikes(12), *JUNK]
    assert [parse_id(v) for v in forged] == [None] * len(forged)
    assert [parse_id(v) for v in (None, True, 1.0, [1], {"a": 1})] == [None] * 5


def snapshot(bot: BotHarness) -> dict[str, list[tuple[Any, ...]]]:
    # Every table but the replay guard's, which records each signed request by design.
    with bot.services.engine.connect() as connection:
        return {table.name: sorted(map(tuple, connection.execute(table.select())), key=repr)
                for table in Base.metadata.sorted_tables if table.name != "seen_requests"}


@pytest.fixture
def world(bot: BotHarness, clock: ManualClock) -> BotHarness:
    """Real rows the clicking person may act on, wherever a forged id could land."""
    bot.slack.slash("goal add Close the Acme renewal", user=REP)
    bot.slack.slash("goal add Globex upsell", user=REP)
    bot.dispatch()
    clock.set(dt.datetime(2026, 3, 2, 18, 0, tzinfo=dt.UTC))
    bot.dispatch()
    bot.slack.dm(REP, "Legal is reviewing the Acme terms")  # answers check-in 1
    clock.set(dt.datetime(2026, 3, 3, 17, 0, tzinfo=dt.UTC))
    bot.slack.slash("now", user=REP)  # check-in 2, open
    bot.slack.slash("ask <@U0REP1> Why did you miss the Acme deadline?", user=MANAGER)  # held: question 1
    return bot


def forgeries(bot: BotHarness) -> list[str]:
    """Lookalikes of every id of a row that the rep or the manager may legitimately act on."""
    with bot.services.sessions.begin() as session:
        checkins = set(session.scalars(select(CheckIn.id).where(CheckIn.rep_id == REP)))
        goals = set(session.scalars(select(Goal.id).where(Goal.rep_id == REP)))
        ids = {*checkins, *goals, *session.scalars(select(Answer.id)),
               *session.scalars(select(ManagerQuestion.id)), *session.scalars(select(Membership.id))}
        assert session.scalar(select(CheckIn.id).where(CheckIn.rep_id == REP, CheckIn.state == "sent"))
        assert session.scalar(select(ManagerQuestion.id).where(ManagerQuestion.status == "held"))
    forged = [value for n in sorted(ids) for value in lookalikes(n)]
    # The goal picker's "checkin:goal" value, each half forged in turn.
    forged += [f"{lookalikes(c)[0]}:{g}" for c in checkins for g in goals]
    forged += [f"{c}:{lookalikes(g)[1]}" for c in checkins for g in goals]
    return [*forged, *JUNK]


# (action_id, who clicks, reply expected): every block action whose value carries an id or a user.
ACTIONS = [
    ("checkin_answer", REP, REFUSAL), ("checkin_skip", REP, REFUSAL), ("checkin_snooze", REP, REFUSAL),
    ("checkin_pick_goal", REP, REFUSAL),
    ("ask_use_suggestion", MANAGER, REFUSAL), ("ask_send_anyway", MANAGER, REFUSAL), ("ask_cancel", MANAGER, REFUSAL),
    ("guard_cadence_hint", MANAGER, REFUSAL),
    ("answer_thanks", MANAGER, REFUSAL), ("answer_reply", MANAGER, REFUSAL),
    ("team_join_accept", REP, REFUSAL), ("team_join_decline", REP, REFUSAL),
    ("cadence_accept", REP, REFUSAL), ("cadence_decline", REP, REFUSAL),
    ("guard_health_prev", MANAGER, None), ("guard_health_next", MANAGER, None),  # a page number: page 1
]


def test_every_action_id_with_a_value_is_in_the_table(world: BotHarness) -> None:
    from handlers.render import checkin, guard, guard_health, manager

    carrying = {checkin.ANSWER, checkin.SKIP, checkin.SNOOZE, checkin.PICK_GOAL, guard.USE_SUGGESTION,
                guard.SEND_ANYWAY, guard.CANCEL, guard.CADENCE_HINT, guard_health.HEALTH_PREV,
                guard_health.HEALTH_NEXT, manager.ANSWER_THANKS, manager.ANSWER_REPLY, manager.TEAM_ACCEPT,
                manager.TEAM_DECLINE, manager.CADENCE_ACCEPT, manager.CADENCE_DECLINE}
    assert carrying == {a for a, _, _ in ACTIONS}


@pytest.mark.parametrize(("action_id", "user", "reply"), ACTIONS, ids=[a for a, _, _ in ACTIONS])
def test_a_forged_button_value_is_refused_and_changes_nothing(world: BotHarness, action_id: str, user: str,
                                                               reply: str | None,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    before = snapshot(world)
    for value in forgeries(world):
        seen = len(world.sandbox.ephemerals_to(user))
        # A message the bot never sent, holding only the forged element: the click names the id.
        response = world.slack.click(action_id, user=user, value=value,
                                     message={"ts": "1700000000.000100", "blocks": []})
        assert response.status == 200, (value, response.text)
        new = [e.text for e in world.sandbox.ephemerals_to(user)[seen:]]
        assert SORRY not in new, value
        if reply is not None:
            assert new == [reply], (value, new)
        assert snapshot(world) == before, value
    assert not [r for r in caplog.records if "unhandled error" in r.message]


@pytest.mark.parametrize("action_id", ["goal_up", "goal_down", "goal_archive"])
def test_a_forged_goal_control_leaves_the_goals_alone(world: BotHarness, action_id: str,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    world.slack.slash("goals", user=REP)
    before = snapshot(world)
    for value in forgeries(world):
        view = world.sandbox.views_of(REP)[-1]
        assert world.slack.click(action_id, user=REP, value=value, view=view).status == 200
        notice = str(world.sandbox.views_of(REP)[-1]["blocks"])
        assert "couldn't find that goal" in notice, value
        assert snapshot(world) == before, value
    assert not [r for r in caplog.records if "unhandled error" in r.message]


def _forged_view(bot: BotHarness, user: str, callback_id: str, metadata: str) -> dict[str, Any]:
    view = next(v for v in reversed(bot.sandbox.views_of(user)) if v.get("callback_id") == callback_id)
    forged = copy.deepcopy(view)
    forged["private_metadata"] = metadata
    forged["id"] = f"{view['id']}-forged"
    return forged


def test_a_forged_answer_modal_saves_nothing(world: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    world.slack.click("checkin_answer", user=REP)  # the real modal for check-in 2
    before = snapshot(world)
    for metadata in forgeries(world):
        view = _forged_view(world, REP, "checkin_answer_submit", metadata)
        response = world.slack.submit_view(view, {"answer": {"answer_text": "forged"}}, user=REP)
        assert response.status == 200
        assert response.json()["response_action"] == "errors", metadata
        assert "can't find that check-in" in str(response.json()["errors"]), metadata
        assert snapshot(world) == before, metadata
    assert not [r for r in caplog.records if "unhandled error" in r.message]


def test_a_forged_note_modal_sends_nothing(world: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    world.slack.click("answer_reply", user=MANAGER)  # the real note modal for answer 1
    before, dms = snapshot(world), len(world.sandbox.dms_to(REP))
    for metadata in forgeries(world):
        view = _forged_view(world, MANAGER, "coaching_note_submit", metadata)
        response = world.slack.submit_view(view, {"note": {"note_text": "Nice work"}}, user=MANAGER)
        assert response.status == 200
        assert response.json() == {"response_action": "errors", "errors": {"note": REFUSAL}}, metadata
        assert snapshot(world) == before, metadata
    assert len(world.sandbox.dms_to(REP)) == dms
    assert not [r for r in caplog.records if "unhandled error" in r.message]
