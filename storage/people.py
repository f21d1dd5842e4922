"""Users, teams and who manages whom. Functions take a `Session`; the caller owns the transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.config import AdminConfig
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
    return user


def sync_config_teams(session: Session, team_id: str, config: AdminConfig, now: dt.datetime) -> None:
    """Make the database's config-sourced teams match the admin config (idempotent)."""
    advisory_lock(session, TEAM_SYNC_LOCK)  # two processes starting at once sync one at a time
    ensure_workspace(session, team_id, now)
    wanted = {t.name: t for t in config.teams}
    existing = {t.name: t for t in session.scalars(
        select(Team).where(Team.team_id == team_id, Team.source == "config"))}
    for name, team in existing.items():
        if name not in wanted:
            session.delete(team)
    for name, spec in wanted.items():
        found = existing.get(name)
        if found is None:
            team = Team(team_id=team_id, name=name, manager_id=spec.manager, source="config")
            session.add(team)
            session.flush()
        else:
            team = found
        team.manager_id = spec.manager
        members = set(spec.members)
        session.execute(delete(Membership).where(Membership.team_pk == team.id,
                                                 Membership.rep_id.not_in(members)))
        have = set(session.scalars(select(Membership.rep_id).where(Membership.team_pk == team.id)))
        for rep in members - have:
            session.add(Membership(team_id=team_id, team_pk=team.id, rep_id=rep, status="active", created_at=now))
        for rep in members:
            ensure_user(session, team_id, rep, now)
        ensure_user(session, team_id, spec.manager, now, role="manager")
    session.flush()


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
