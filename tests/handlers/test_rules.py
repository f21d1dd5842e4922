"""The rules behind the listeners, run on a real database without Slack."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.config import AdminConfig, parse_config
from handlers import actions, cmd_rep, events, home, views
from storage import checkins, leave, outbox
from storage.goals import GoalError, active_goals, add_goal
from storage.models import Answer, CheckIn, Goal, User
from storage.people import ensure_user

TEAM = "T0TEST"
NOW = dt.datetime(2026, 3, 4, 17, 0, tzinfo=dt.UTC)  # Wednesday 09:00 in Los Angeles
LA = "America/Los_Angeles"


@pytest.fixture
def config() -> AdminConfig:
    return parse_config("")


def _checkin(session: Session, rep: str, state: str = "sent", due: dt.datetime = NOW, **extra: object) -> CheckIn:
    row = CheckIn(team_id=TEAM, rep_id=rep, kind="scheduled", due_at=due, state=state, created_at=NOW,
                  channel="D1", message_ts="1.000001", **extra)
    session.add(row)
    session.flush()
    return row


def _rep(session: Session, rep: str = "U0REP1", tz: str = LA) -> User:
    user = ensure_user(session, TEAM, rep, NOW - dt.timedelta(days=30))
    user.tz = tz
    return user


def test_answer_target_refuses_someone_elses_or_an_unsent_checkin(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _rep(session)
        sent, unsent = _checkin(session, "U0REP1"), _checkin(session, "U0REP1", "scheduled", NOW + dt.timedelta(days=7))
        session.add(Answer(team_id=TEAM, checkin_id=sent.id, rep_id="U0REP1", text="Went well", confidence=4,
                           help_wanted=True, source="dm", created_at=NOW, updated_at=NOW))
        session.flush()
        assert actions.answer_target(session, TEAM, "U0REP2", sent.id) is None
        assert actions.answer_target(session, TEAM, "U0REP1", unsent.id) is None
        target = actions.answer_target(session, TEAM, "U0REP1", sent.id)
        assert target is not None
        assert (target.checkin.id, target.text, target.confidence, target.help_wanted) == (sent.id, "Went well", 4, True)


def test_skip_is_done_once_and_refused_for_another_rep(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        checkin = _checkin(session, "U0REP1")
        assert actions.skip_checkin(session, TEAM, "U0REP2", checkin.id, NOW) == (actions.Change.REFUSED, None)
        change, row = actions.skip_checkin(session, TEAM, "U0REP1", checkin.id, NOW)
        assert change is actions.Change.DONE and row is not None and row.state == "skipped"
        assert actions.skip_checkin(session, TEAM, "U0REP1", checkin.id, NOW)[0] is actions.Change.UNCHANGED


def test_snooze_brings_it_back_in_two_hours_in_the_reps_zone(sessions: sessionmaker[Session],
                                                             config: AdminConfig) -> None:
    with sessions.begin() as session:
        _rep(session)
        checkin = _checkin(session, "U0REP1")
        outcome = actions.snooze_checkin(session, config, TEAM, "U0REP1", checkin.id, NOW)
        assert outcome.change is actions.Change.DONE
        assert outcome.until == NOW + dt.timedelta(hours=2) and outcome.zone == LA
        assert session.get(CheckIn, checkin.id).state == "scheduled"  # type: ignore[union-attr]
        again = actions.snooze_checkin(session, config, TEAM, "U0REP1", checkin.id, NOW)
        assert again.change is actions.Change.UNCHANGED  # no longer open


def test_snooze_late_in_the_day_waits_for_the_morning(sessions: sessionmaker[Session], config: AdminConfig) -> None:
    late = dt.datetime(2026, 3, 4, 17, 0, tzinfo=ZoneInfo(LA)).astimezone(dt.UTC)  # 17:00 + 2 h is quiet
    with sessions.begin() as session:
        _rep(session)
        checkin = _checkin(session, "U0REP1", due=late)
        outcome = actions.snooze_checkin(session, config, TEAM, "U0REP1", checkin.id, late)
        assert outcome.until == dt.datetime(2026, 3, 5, 9, 0, tzinfo=ZoneInfo(LA))


def test_snooze_refuses_an_unknown_rep(sessions: sessionmaker[Session], config: AdminConfig) -> None:
    with sessions.begin() as session:
        checkin = _checkin(session, "U0REP1")  # no user row
        assert actions.snooze_checkin(session, config, TEAM, "U0REP1", checkin.id, NOW).change is actions.Change.REFUSED


def test_switch_goal_only_to_the_reps_own_goal_on_an_open_checkin(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        mine = add_goal(session, TEAM, "U0REP1", "Acme renewal", NOW)
        theirs = add_goal(session, TEAM, "U0REP2", "Globex", NOW)
        checkin = _checkin(session, "U0REP1")
        assert actions.switch_goal(session, TEAM, "U0REP1", checkin.id, theirs.id, NOW).change is actions.Change.REFUSED
        switched = actions.switch_goal(session, TEAM, "U0REP1", checkin.id, mine.id, NOW)
        assert switched.change is actions.Change.DONE and checkin.goal_id == mine.id
        assert session.get(Goal, mine.id).last_discussed_at is not None  # type: ignore[union-attr]
        checkin.state = "answered"
        assert actions.switch_goal(session, TEAM, "U0REP1", checkin.id, mine.id, NOW).change is actions.Change.REFUSED


def test_change_goal_archives_and_reorders_with_notices(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first = add_goal(session, TEAM, "U0REP1", "First", NOW)
        second = add_goal(session, TEAM, "U0REP1", "Second", NOW)
        assert actions.change_goal(session, TEAM, "U0REP2", first.id, "up", NOW) == "I couldn't find that goal."
        assert actions.change_goal(session, TEAM, "U0REP1", second.id, "up", NOW) is None
        assert [g.text for g in active_goals(session, TEAM, "U0REP1")] == ["Second", "First"]
        notice = actions.change_goal(session, TEAM, "U0REP1", first.id, "archive", NOW)
        assert notice is not None and notice.startswith("Archived.")
        assert [g.text for g in active_goals(session, TEAM, "U0REP1")] == ["Second"]


def test_a_dm_answers_the_open_checkin_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        checkin = _checkin(session, "U0REP1")
        first = events.record_dm(session, TEAM, "U0REP1", "Ev1", None, "Good week", NOW)
        assert first.result is events.DmResult.RECORDED and first.created and first.checkin is not None
        assert first.checkin.id == checkin.id
        retry = events.record_dm(session, TEAM, "U0REP1", "Ev1", None, "Good week", NOW)
        assert retry.result is events.DmResult.DUPLICATE
        texts = session.scalars(select(Answer.text).where(Answer.checkin_id == checkin.id)).all()
        assert texts == ["Good week"]


def test_a_dm_with_nothing_open_is_not_stored(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        outcome = events.record_dm(session, TEAM, "U0REP1", "Ev2", None, "Hello?", NOW)
        assert outcome.result is events.DmResult.NO_CHECKIN
        assert session.scalars(select(Answer)).all() == []


def test_a_thread_reply_answers_the_checkin_of_that_thread(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        older = _checkin(session, "U0REP1", due=NOW - dt.timedelta(days=7))
        older.message_ts = "0.5"
        _checkin(session, "U0REP1")
        outcome = events.record_dm(session, TEAM, "U0REP1", "Ev3", "0.5", "About last week", NOW)
        assert outcome.checkin is not None and outcome.checkin.id == older.id


def test_a_too_long_dm_answer_raises_so_the_transaction_rolls_back(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _checkin(session, "U0REP1")
        with pytest.raises(checkins.CheckInError):
            events.record_dm(session, TEAM, "U0REP1", "Ev4", None, "x" * (checkins.MAX_ANSWER_CHARS + 1), NOW)


def test_the_answer_modal_saves_only_on_the_reps_own_checkin(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        checkin = _checkin(session, "U0REP1")
        assert views.save_answer(session, TEAM, "U0REP2", checkin.id, "Mine", None, False, NOW) is None
        saved = views.save_answer(session, TEAM, "U0REP1", checkin.id, "Mine", 3, True, NOW)
        assert saved is not None
        row, recorded = saved
        assert row.id == checkin.id and recorded.created
        assert (recorded.answer.text, recorded.answer.confidence, recorded.answer.help_wanted) == ("Mine", 3, True)


def test_the_goals_modal_edits_archives_adds_and_enrols(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        ensure_user(session, TEAM, "U0REP1", NOW, role="guest")
        keep = add_goal(session, TEAM, "U0REP1", "Keep", NOW)
        drop = add_goal(session, TEAM, "U0REP1", "Drop", NOW)
        views.save_goals(session, TEAM, "U0REP1", {keep.id: "Kept, reworded", drop.id: "  "}, "New one", NOW)
        assert [g.text for g in active_goals(session, TEAM, "U0REP1")] == ["Kept, reworded", "New one"]
        user = session.scalar(select(User).where(User.slack_id == "U0REP1"))
        assert user is not None and user.role == "rep"
        with pytest.raises(GoalError):
            views.save_goals(session, TEAM, "U0REP1", {}, "x" * 1000, NOW)


def test_now_queues_one_rep_initiated_checkin(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        started, queued = cmd_rep.start_now(session, TEAM, "U0REP1", NOW)
        [row] = session.scalars(select(CheckIn)).all()
        assert started is cmd_rep.Now.QUEUED and queued == outbox.of_checkin(session, row.id) is not None
        assert (row.kind, row.state, row.rep_id) == ("rep_now", "scheduled", "U0REP1")
        # A second /checkin now in the same minute finds the first on its way: still one check-in.
        assert cmd_rep.start_now(session, TEAM, "U0REP1", NOW) == (
            cmd_rep.Now.ON_ITS_WAY, None)
        row.state = "sent"
        assert cmd_rep.start_now(session, TEAM, "U0REP1", NOW + dt.timedelta(hours=1)) == (cmd_rep.Now.OPEN, None)
        assert len(session.scalars(select(CheckIn)).all()) == 1


def test_skip_next_says_which_it_skipped(sessions: sessionmaker[Session], config: AdminConfig) -> None:
    with sessions.begin() as session:
        _rep(session)
        assert cmd_rep.skip_next(session, config, TEAM, "U0REP1", NOW) == (cmd_rep.Skipped.NOTHING, "")
        upcoming = _checkin(session, "U0REP1", "scheduled", dt.datetime(2026, 3, 9, 18, 0, tzinfo=dt.UTC))
        skipped, when = cmd_rep.skip_next(session, config, TEAM, "U0REP1", NOW)
        assert skipped is cmd_rep.Skipped.UPCOMING and "Mon" in when and "11:00" in when
        assert upcoming.state == "skipped"
        _checkin(session, "U0REP1", "sent", NOW + dt.timedelta(minutes=1))
        assert cmd_rep.skip_next(session, config, TEAM, "U0REP1", NOW)[0] is cmd_rep.Skipped.OPEN


def test_pause_ends_at_local_midnight_and_refuses_bad_dates(sessions: sessionmaker[Session],
                                                            config: AdminConfig) -> None:
    with sessions.begin() as session:
        user = _rep(session)
        today = NOW.astimezone(ZoneInfo(LA)).date()
        assert cmd_rep.pause(session, config, TEAM, "U0REP1", NOW, today, 0).refusal is not None
        too_far = cmd_rep.pause(session, config, TEAM, "U0REP1", NOW, today + dt.timedelta(days=181), 0)
        assert too_far.refusal is not None and "180 days" in too_far.refusal
        assert user.paused_until is None  # a refusal changes nothing
        paused = cmd_rep.pause(session, config, TEAM, "U0REP1", NOW, None, 14)
        assert paused.refusal is None and paused.local_day == dt.date(2026, 3, 18)
        assert user.paused_until == dt.datetime(2026, 3, 18, 0, 0, tzinfo=ZoneInfo(LA))
        assert "Wed" in paused.resumes and "09:00" in paused.resumes  # quiet hours end at 09:00
        assert cmd_rep.resume(session, TEAM, "U0REP1", NOW) is True
        assert cmd_rep.resume(session, TEAM, "U0REP1", NOW) is False


def test_set_pause_from_the_home_tab(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        user = home.set_pause(session, TEAM, "U0REP1", NOW + dt.timedelta(days=7), NOW)
        assert user.paused_until == NOW + dt.timedelta(days=7)
        assert home.set_pause(session, TEAM, "U0REP1", None, NOW).paused_until is None


@pytest.mark.parametrize("first, last, words", [
    (dt.date(2026, 3, 20), dt.date(2026, 3, 10), "ends before it starts"),
    (dt.date(2026, 2, 1), dt.date(2026, 2, 10), "in the past"),
    (dt.date(2026, 3, 3), dt.date(2026, 3, 10), "today (2026-03-04) or later"),  # began yesterday
    (dt.date(2026, 3, 10), dt.date(2027, 3, 11), "up to a year"),
    (dt.date(2027, 3, 10), dt.date(2027, 3, 12), "up to a year ahead"),
])
def test_leave_refuses_bad_ranges_politely_and_books_nothing(
        sessions: sessionmaker[Session], config: AdminConfig, first: dt.date, last: dt.date, words: str) -> None:
    with sessions.begin() as session:
        _rep(session)
        booked = cmd_rep.book_leave(session, config, TEAM, "U0REP1", NOW, first, last)
        assert booked.refusal is not None and words in booked.refusal
        assert leave.booked(session, TEAM, "U0REP1", dt.date(2026, 1, 1)) == []


def test_leave_merges_overlapping_ranges_and_ends_early(sessions: sessionmaker[Session], config: AdminConfig) -> None:
    with sessions.begin() as session:
        _rep(session)
        cmd_rep.book_leave(session, config, TEAM, "U0REP1", NOW, dt.date(2026, 3, 4), dt.date(2026, 3, 10))
        merged = cmd_rep.book_leave(session, config, TEAM, "U0REP1", NOW, dt.date(2026, 3, 11), dt.date(2026, 3, 13))
        assert (merged.first, merged.last) == (dt.date(2026, 3, 4), dt.date(2026, 3, 13))  # touching: one range
        cmd_rep.book_leave(session, config, TEAM, "U0REP1", NOW, dt.date(2026, 4, 1), dt.date(2026, 4, 3))
        later = NOW + dt.timedelta(days=2)  # Friday 6 March, on leave
        assert cmd_rep.resume(session, TEAM, "U0REP1", later, config) is True
        ranges = [r for _, r in leave.booked(session, TEAM, "U0REP1", dt.date(2026, 1, 1))]
        # Back today: the leave under way ends yesterday; the one booked for April stays.
        assert [(r.first, r.last) for r in ranges] == [(dt.date(2026, 3, 4), dt.date(2026, 3, 5)),
                                                       (dt.date(2026, 4, 1), dt.date(2026, 4, 3))]
        assert cmd_rep.cancel_leave(session, config, TEAM, "U0REP1", later) == 1
        assert [r for _, r in leave.booked(session, TEAM, "U0REP1", dt.date(2026, 3, 6))] == []


def test_dst_a_leave_across_the_us_change_is_a_23_hour_day_short_in_utc() -> None:
    # Los Angeles springs forward on 8 March 2026: a leave of 7–9 March lasts 71 hours, and ends at
    # local midnight on the 10th (07:00 UTC, PDT), not at 08:00 UTC (PST).
    start, end = leave.Range(dt.date(2026, 3, 7), dt.date(2026, 3, 9)).utc_interval(ZoneInfo(LA))
    assert start == dt.datetime(2026, 3, 7, 8, 0, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 3, 10, 7, 0, tzinfo=dt.UTC)
    assert end - start == dt.timedelta(hours=71)
