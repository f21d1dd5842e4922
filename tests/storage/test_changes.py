"""What an idle pass reads: config teams synced once per config, planning only for reps due."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.config import parse_config
from scheduling.plan import plan_next
from storage import changes
from storage.models import CheckIn, Membership, Team, User
from storage.people import ensure_user, sync_config_teams

T = "T0TEST"
NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
TWO_TEAMS = parse_config("""
[[teams]]
name = "West"
manager = "U0MGR1"
members = ["U0REP1", "U0REP2"]

[[teams]]
name = "East"
manager = "U0MGR2"
members = ["U0REP3", "U0MGR1"]
""")


def memberships(session: Session) -> set[tuple[str, str, str]]:
    return {(name, manager, rep) for name, manager, rep in session.execute(
        select(Team.name, Team.manager_id, Membership.rep_id).join(Membership, Membership.team_pk == Team.id))}


def test_config_teams_sync_once_per_config_and_follow_a_changed_one(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        assert sync_config_teams(session, T, TWO_TEAMS, NOW)
        assert memberships(session) == {("West", "U0MGR1", "U0REP1"), ("West", "U0MGR1", "U0REP2"),
                                         ("East", "U0MGR2", "U0REP3"), ("East", "U0MGR2", "U0MGR1")}
        # A manager listed as a member of a later team keeps the role of their first mention.
        roles = {who: role for who, role in session.execute(select(User.slack_id, User.role))}
        assert roles == {"U0REP1": "rep", "U0REP2": "rep", "U0MGR1": "manager", "U0REP3": "rep", "U0MGR2": "manager"}
    with sessions.begin() as session:
        assert not sync_config_teams(session, T, parse_config(_same_as_toml()), NOW)
    changed = parse_config("""
[[teams]]
name = "West"
manager = "U0MGR3"
members = ["U0REP2", "U0REP4"]
""")
    with sessions.begin() as session:
        assert sync_config_teams(session, T, changed, NOW)
        assert memberships(session) == {("West", "U0MGR3", "U0REP2"), ("West", "U0MGR3", "U0REP4")}
        assert session.scalar(select(User.role).where(User.slack_id == "U0MGR3")) == "manager"
        # Everyone whose teams changed is looked at again by planning and the drift guard.
        dirty = changes.guard_dirty(session, T)
        assert {"U0REP1", "U0REP2", "U0REP3", "U0REP4", "U0MGR1", "U0MGR2", "U0MGR3"} <= dirty


def _same_as_toml() -> str:
    # The same teams written differently: the digest is of the effective config, not the text.
    return """
[[teams]]
name   = "West"
manager = "U0MGR1"
members = [ "U0REP1", "U0REP2" ]
[[teams]]
members = ["U0REP3", "U0MGR1"]
manager = "U0MGR2"
name = "East"
"""


def test_planning_reads_only_reps_with_something_new(sessions: sessionmaker[Session]) -> None:
    config = parse_config("")
    with sessions.begin() as session:
        for rep in ("U0REP1", "U0REP2", "U0REP3"):
            ensure_user(session, T, rep, NOW)
        assert plan_next(session, config, T, NOW) == 3  # new reps are due at once
        changes.mark_scanned(session, T, NOW, config.digest())
        # Planned reps are not due again: nothing marks them.
        assert session.scalars(select(User.next_plan_at)).all() == [None, None, None]
        assert changes.take_plan_due(session, T, NOW + dt.timedelta(days=30)) == set()
    sent_at = NOW + dt.timedelta(days=7)
    with sessions.begin() as session:
        # REP1's check-in is sent (by whichever send path): it is no longer upcoming.
        session.execute(update(CheckIn).where(CheckIn.rep_id == "U0REP1")
                        .values(state="sent", sent_at=sent_at))
        # Another REP2 row disappears without a trace but for the mark (a re-planned cadence).
        session.execute(CheckIn.__table__.delete().where(CheckIn.rep_id == "U0REP2"))
        changes.touch_reps(session, T, ["U0REP2"])
        assert plan_next(session, config, T, sent_at + dt.timedelta(minutes=1)) == 2
        reps = set(session.scalars(select(CheckIn.rep_id).where(CheckIn.state == "scheduled")))
        assert reps == {"U0REP1", "U0REP2", "U0REP3"}
        # A rep whose row vanished without any mark is what a full walk (no mark of the last pass,
        # e.g. after a config change) still repairs.
        session.execute(CheckIn.__table__.delete().where(CheckIn.rep_id == "U0REP3"))
        assert plan_next(session, config, T, sent_at + dt.timedelta(minutes=2)) == 0
        session.execute(update(User).values(next_plan_at=None))
        assert plan_next(session, parse_config('default_timezone = "UTC"\nadmins = ["U0ADMIN"]'), T,
                         sent_at + dt.timedelta(minutes=3)) == 1
