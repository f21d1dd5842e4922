"""SQLAlchemy 2 typed models. Every row carries the Slack `team_id` (multi-workspace later).

Datetimes are stored as UTC and always come back UTC-aware (see `UTCDateTime`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Refuse naive datetimes on the way in; attach UTC on the way out.

    SQLite has no time zone type and returns naive values, so we normalise to UTC before
    storing and re-attach UTC when loading. PostgreSQL stores `timestamptz` natively.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; use an aware UTC datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# Stable constraint names so Alembic migrations work the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: dict[Any, Any] = {dt.datetime: UTCDateTime(), str: String(255)}


class Workspace(Base):
    __tablename__ = "workspaces"
    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None]
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("team_id", "slack_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    slack_id: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str | None]
    tz: Mapped[str | None] = mapped_column(String(64))  # IANA zone name from users.info
    tz_refreshed_at: Mapped[dt.datetime | None]
    # rep (gets check-ins) | manager | guest (seen, e.g. opened App Home, but not opted in)
    role: Mapped[str] = mapped_column(String(16), default="rep")
    paused_until: Mapped[dt.datetime | None]
    # A permanent Slack error (user_not_found, account_inactive...) parks the rep's schedule.
    parked_reason: Mapped[str | None] = mapped_column(String(64))
    parked_at: Mapped[dt.datetime | None]
    prompt_sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("team_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(80))
    manager_id: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(16), default="config")  # config | command


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("team_pk", "rep_id"), Index("ix_memberships_rep", "team_id", "rep_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    team_pk: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    rep_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | pending
    created_at: Mapped[dt.datetime]


class Goal(Base):
    __tablename__ = "goals"
    __table_args__ = (Index("ix_goals_rep", "team_id", "rep_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    rep_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(String(400))
    position: Mapped[int] = mapped_column(Integer, default=0)
    last_discussed_at: Mapped[dt.datetime | None]
    archived_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


class CadenceAgreement(Base):
    __tablename__ = "cadence_agreements"
    __table_args__ = (Index("ix_cadence_rep", "team_id", "rep_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    rep_id: Mapped[str] = mapped_column(String(32))
    manager_id: Mapped[str] = mapped_column(String(32))
    every: Mapped[str] = mapped_column(String(16))
    day: Mapped[str | None] = mapped_column(String(3))
    time: Mapped[str | None] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(16), default="proposed")  # proposed|accepted|declined|superseded
    anchor: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime]
    decided_at: Mapped[dt.datetime | None]


class CheckIn(Base):
    __tablename__ = "checkins"
    __table_args__ = (
        # One check-in per rep per due moment and kind: inserting the next one twice is a no-op.
        UniqueConstraint("team_id", "rep_id", "kind", "due_at"),
        Index("ix_checkins_due", "state", "due_at"),
        Index("ix_checkins_rep_due", "team_id", "rep_id", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    rep_id: Mapped[str] = mapped_column(String(32))
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | rep_now
    due_at: Mapped[dt.datetime]
    # scheduled -> sending -> sent -> answered | skipped | expired
    state: Mapped[str] = mapped_column(String(16), default="scheduled")
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    prompt: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[dt.datetime | None]
    reminder_sent_at: Mapped[dt.datetime | None]
    snoozed_until: Mapped[dt.datetime | None]
    snooze_count: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime]


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (Index("ix_answers_rep_time", "team_id", "rep_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id", ondelete="CASCADE"), unique=True)
    rep_id: Mapped[str] = mapped_column(String(32))
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    confidence: Mapped[int | None] = mapped_column(Integer)
    help_wanted: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16))  # modal | dm | thread
    event_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    # The rep's DM that carried the answer (None for a modal), so an edit or deletion of that DM
    # in Slack can be recognised as being about the answer.
    message_ts: Mapped[str | None] = mapped_column(String(32))


class ManagerQuestion(Base):
    __tablename__ = "manager_questions"
    __table_args__ = (Index("ix_questions_pair", "team_id", "manager_id", "rep_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    manager_id: Mapped[str] = mapped_column(String(32))
    rep_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(16))
    suggestion: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="held")  # held | sent | cancelled
    hold_reasons: Mapped[str | None] = mapped_column(String(64))  # "tone,budget"
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    used_suggestion: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]


class CoachingNote(Base):
    """A manager's response to an answer: a "Thanks" acknowledgement or a written note."""

    __tablename__ = "coaching_notes"
    __table_args__ = (Index("ix_notes_pair", "team_id", "manager_id", "rep_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("answers.id", ondelete="SET NULL"))
    manager_id: Mapped[str] = mapped_column(String(32))
    rep_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # thanks | note
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]


class WarningSent(Base):
    __tablename__ = "warnings_sent"
    __table_args__ = (Index("ix_warnings_manager", "team_id", "manager_id", "signal", "sent_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    manager_id: Mapped[str] = mapped_column(String(32))
    rep_id: Mapped[str | None] = mapped_column(String(32))
    signal: Mapped[str] = mapped_column(String(16))
    value: Mapped[float] = mapped_column(Float)
    # Set once the signal drops below its re-arm level, so the next breach may warn again.
    rearmed: Mapped[bool] = mapped_column(Boolean, default=False)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[dt.datetime]


class ProcessedEvent(Base):
    """Slack delivers events at least once; the event_id makes handling idempotent."""

    __tablename__ = "processed_events"
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[dt.datetime]


# ---- Managers: answers passed on and digests (issue 4) ------------------------------------------
# Added at the end so the other features' models above stay untouched.


class AnswerRelay(Base):
    """An answer passed on to one manager. The unique row is the claim: a manager gets it once."""

    __tablename__ = "answer_relays"
    __table_args__ = (UniqueConstraint("answer_id", "manager_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"))
    manager_id: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]


class DigestSent(Base):
    """One row per manager and digest period ("day:2026-03-02", "week:2026-W10"): the send claim."""

    __tablename__ = "digests_sent"
    __table_args__ = (UniqueConstraint("team_id", "manager_id", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    manager_id: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(32))
    answers: Mapped[int] = mapped_column(Integer, default=0)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]


# Summaries look up the notes on a set of answers ("help wanted" still open, acknowledged).
Index("ix_notes_answer", CoachingNote.answer_id)


# ---- The micromanagement drift guard (issue 5) --------------------------------------------------
# Added at the end so the other features' models above stay untouched.


class WarningClaim(Base):
    """One drift-warning DM per manager, kind and UTC day. The unique row is the send claim, so two
    dispatch passes racing on the same day send it once; `warnings_sent` keeps one row per signal."""

    __tablename__ = "warning_claims"
    __table_args__ = (UniqueConstraint("team_id", "manager_id", "kind", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    manager_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # drift_warning | contact_gap (the metadata event type)
    day: Mapped[dt.date] = mapped_column(Date)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]


# Every dispatch pass looks up the last warning per manager, rep and signal (the hysteresis prior).
Index("ix_warnings_pair", WarningSent.team_id, WarningSent.manager_id, WarningSent.rep_id, WarningSent.signal)


# ---- Hardening (issue 14) -----------------------------------------------------------------------
# Added at the end so the other features' models above stay untouched.


class SeenRequest(Base):
    """A signed slash command or click already applied, by its signature's digest.

    Slack never retries those, so the same signature twice is a replay: the row makes the second one
    a no-op on every replica. Rows are only needed while the signature is still valid (5 minutes).
    """

    __tablename__ = "seen_requests"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[int] = mapped_column(Integer, index=True)  # Unix seconds, from Slack's timestamp
