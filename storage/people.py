"""Users, teams and who manages whom. Functions take a `Session`; the caller owns the transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.config import AdminConfig
from storage.changes import touch_reps
from storage.db import TEAM_SYNC_LOCK, advisory_lock, insert_ignore
from storage.models import Membership, Team, User, Workspace


@dataclass(frozen=True)
class Role:
    user_id: str
    is_admin: bool
    is_manager: bool
    is_rep: bool

    @property
    def name(self) -> str:
        if self.is_admin:
            return "admin"
        return "manager" if self.is_manager else "rep"


def ensure_workspace(session: Session, team_id: str, now: dt.datetime, name: str | None = None) -> Workspace:
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        insert_ignore(session, Workspace, {"team_id": team_id, "name": name, "created_at": now})
        workspace = session.get(Workspace, team_id)
        assert workspace is not None
    return workspace


def known_identity(session: Session, token_sha256: str) -> tuple[str, str] | None:
    """(team_id, bot_user_id) last proven by auth.test for the token with this digest."""
    row = session.execute(select(Workspace.team_id, Workspace.bot_user_id)
                          .where(Workspace.token_sha256 == token_sha256, Workspace.bot_user_id.is_not(None))
                          .limit(1)).first()
    return (row.team_id, row.bot_user_id) if row is not None and row.bot_user_id else None


def remember_identity(session: Session, team_id: str, bot_user_id: str, token_sha256: str,
                      now: dt.datetime) -> None:
    workspace = ensure_workspace(session, team_id, now)
    workspace.bot_user_id, workspace.token_sha256 = bot_user_id, token_sha256


def get_user(session: Session, team_id: str, slack_id: str) -> User | None:
    return session.scalar(select(User).where(User.team_id == team_id, User.slack_id == slack_id))


def ensure_user(session: Session, team_id: str, slack_id: str, now: dt.datetime, role: str = "rep") -> User:
    user = get_user(session, team_id, slack_id)
    if user is None:
        insert_ignore(session, User, {"team_id": team_id, "slack_id": slack_id, "role": role, "created_at": now,
                                       "prompt_sequence": 0})
        user = get_user(session, team_id, slack_id)
        assert user is not None
    return user


def enroll_rep(session: Session, team_id: str, slack_id: str, now: dt.datetime) -> User:
    """A person who adds goals or asks for a check-in has opted in to check-ins as a rep."""
    user = ensure_user(session, team_id, slack_id, now)
    if user.role == "guest":
        user.role = "rep"
        touch_reps(session, team_id, [slack_id])
    return user


def sync_config_teams(session: Session, team_id: str, config: AdminConfig, now: dt.datetime) -> bool:
    """Make the database's config-sourced teams match the admin config (idempotent).

    Skipped when the config's digest is the one last synced, so a `dispatch` every minute costs one
    query here; otherwise a few statements for all the members at once. Returns whether it synced.
    """
    advisory_lock(session, TEAM_SYNC_LOCK)  # two processes starting at once sync one at a time
    workspace = ensure_workspace(session, team_id, now)
    digest = config.digest()
    if workspace.config_digest == digest:
        return False
    wanted = {t.name: t for t in config.teams}
    existing = {t.name: t for t in session.scalars(
        select(Team).where(Team.team_id == team_id, Team.source == "config"))}
    old = {(team_pk, rep) for team_pk, rep in session.execute(
        select(Membership.team_pk, Membership.rep_id).where(Membership.team_pk.in_([t.id for t in existing.values()])))}
    touched = {rep for _, rep in old} | {t.manager_id for t in existing.values()}
    gone = [t.id for name, t in existing.items() if name not in wanted]
    if gone:
        session.execute(delete(Membership).where(Membership.team_pk.in_(gone)))
        session.execute(delete(Team).where(Team.id.in_(gone)))
    teams: dict[str, Team] = {}
    for name, spec in wanted.items():
        team = existing.get(name) or Team(team_id=team_id, name=name, manager_id=spec.manager, source="config")
        team.manager_id = spec.manager
        session.add(team)
        teams[name] = team
    session.flush()
    keep = {(teams[name].id, rep) for name, spec in wanted.items() for rep in spec.members}
    for team_pk in {pk for pk, _ in old if pk not in gone}:
        stale = [rep for pk, rep in old if pk == team_pk and (pk, rep) not in keep]
        if stale:
            session.execute(delete(Membership).where(Membership.team_pk == team_pk, Membership.rep_id.in_(stale)))
    added = [{"team_id": team_id, "team_pk": pk, "rep_id": rep, "status": "active", "created_at": now}
             for pk, rep in sorted(keep - old)]
    if added:
        insert_ignore(session, Membership, added)
    # The first mention decides a new person's role, as when each team was synced in turn.
    people: dict[str, str] = {}
    for spec in wanted.values():
        for rep in spec.members:
            people.setdefault(rep, "rep")
        people.setdefault(spec.manager, "manager")
    if people:
        insert_ignore(session, User, [{"team_id": team_id, "slack_id": who, "role": role, "created_at": now,
                                       "prompt_sequence": 0} for who, role in people.items()])
    touch_reps(session, team_id, touched | set(people))
    workspace.config_digest = digest
    session.flush()
    return True


def reps_of_manager(session: Session, team_id: str, manager_id: str) -> list[str]:
    rows = session.scalars(
        select(Membership.rep_id).join(Team, Team.id == Membership.team_pk)
        .where(Team.team_id == team_id, Team.manager_id == manager_id, Membership.status == "active")
        .order_by(Membership.rep_id)
    )
    return list(dict.fromkeys(rows))


def managers_of_rep(session: Session, team_id: str, rep_id: str) -> list[str]:
    rows = session.scalars(
        select(Team.manager_id).join(Membership, Membership.team_pk == Team.id)
        .where(Team.team_id == team_id, Membership.rep_id == rep_id, Membership.status == "active")
        .order_by(Team.manager_id)
    )
    return list(dict.fromkeys(rows))


def manages(session: Session, team_id: str, manager_id: str, rep_id: str) -> bool:
    return rep_id in reps_of_manager(session, team_id, manager_id)


def role_of(session: Session, config: AdminConfig, team_id: str, user_id: str) -> Role:
    is_manager = session.scalar(
        select(Team.id).where(Team.team_id == team_id, Team.manager_id == user_id).limit(1)) is not None
    user = get_user(session, team_id, user_id)
    is_rep = bool(managers_of_rep(session, team_id, user_id)) or (user is not None and user.role == "rep")
    return Role(user_id=user_id, is_admin=user_id in config.admins, is_manager=is_manager, is_rep=is_rep)
