"""SQLAlchemy 2 typed models. Every row carries the Slack `team_id` (multi-workspace later).

Datetimes are stored as UTC and always come back UTC-aware (see `UTCDateTime`).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
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
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# "Due at once": the value of users.next_plan_at for a rep nobody has planned for yet.
NEVER_PLANNED = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


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


class CheckInState(StrEnum):
    """A check-in's lifecycle; only `storage.lifecycle` moves a row from one state to another."""

    SCHEDULED = "scheduled"  # planned, waiting for its moment (its outbox row is pending)
    SENDING = "sending"  # its outbox row is claimed and being posted
    SENT = "sent"  # delivered; the rep may answer
    ANSWERED = "answered"
    SKIPPED = "skipped"
    EXPIRED = "expired"
    PAUSED = "paused"


class CheckInKind(StrEnum):
    SCHEDULED = "scheduled"  # from the cadence
    REP_NOW = "rep_now"  # the rep's own /checkin now
    ADHOC = "adhoc"  # a manager's /checkin ask


class OutboxKind(StrEnum):
    """Every kind of message the bot posts on its own initiative or on someone's behalf."""

    CHECKIN_PROMPT = "checkin_prompt"
    CHECKIN_NOW = "checkin_now"  # a check-in the rep asked for themselves
    CHECKIN_REMINDER = "checkin_reminder"
    MANAGER_QUESTION = "manager_question"
    ANSWER_RELAY = "answer_relay"  # an answer passed on to a manager
    COACHING_NOTE = "coaching_note"  # a manager's note to the rep
    THANKS = "thanks"  # a manager's thanks to the rep
    CADENCE_PROPOSAL = "cadence_proposal"
    CADENCE_OUTCOME = "cadence_outcome"  # the rep's decision, told to the manager
    TEAM_INVITE = "team_invite"
    INVITE_OUTCOME = "invite_outcome"  # the rep's decision, told to the manager
    DRIFT_WARNING = "drift_warning"
    CONTACT_GAP = "contact_gap"
    TEAM_DIGEST = "team_digest"
    SUMMARY_PAGE = "summary_page"  # a large summary the manager asked for, sent to their DM
    NOTE_REPLY = "note_reply"  # a person's reply in a note's thread (or a late DM), passed on to the other
    RELAY_REFRESH = "relay_refresh"  # chat.update of an answer already passed on: edited or deleted
    # A message already posted, edited or deleted (chat.update / chat.delete), never a new post:
    # a forgotten rep's answer taken out of a relay, digest or summary page.
    RETRACT = "retract"
    # A Home tab to publish again (views.publish) because the last try failed: worked by the pass
    # (handlers.home.refresh_homes), since the view is composed from services the worker lacks.
    HOME_REFRESH = "home_refresh"
    HEALTH_CHART = "health_chart"  # the trend chart of the health report the manager asked for
    SUMMARY_CSV = "summary_csv"  # the team's check-ins as a CSV file the manager asked for
    HELP_NUDGE = "help_nudge"  # one gentle reminder to a manager of a help request left unanswered
    # chat.update of a check-in DM once answered: its buttons become "Answered" (and "Edit answer"),
    # retried through the outbox when Slack fails, since nobody would send the edit again.
    CHECKIN_CLOSED = "checkin_closed"
    CHECKIN_REFRESH = "checkin_refresh"  # chat.update of an open check-in DM whose question changed


class OutboxState(StrEnum):
    PENDING = "pending"  # waiting for not_before (and for its recipient's allowed hours)
    CLAIMED = "claimed"  # a worker holds it until lease_until
    SENT = "sent"
    FAILED = "failed"  # Slack can't reach the recipient, or it gave up; last_error says why
    CANCELLED = "cancelled"  # what it was about is gone (skipped, paused, deleted)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: dict[Any, Any] = {dt.datetime: UTCDateTime(), str: String(255)}


class Workspace(Base):
    __tablename__ = "workspaces"
    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None]
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]
    # Start-up shortcuts (issue 17): auth.test is skipped while the token's SHA-256 matches (never
    # the token itself), and config teams are re-synced only when the config's digest changes.
    token_sha256: Mapped[str | None] = mapped_column(String(64))
    config_digest: Mapped[str | None] = mapped_column(String(64))
    # The incremental pass: the `now` of the last drift evaluation and the config it used.
    scanned_at: Mapped[dt.datetime | None]
    scanned_digest: Mapped[str | None] = mapped_column(String(64))
    # OAuth installs (issue 11): the Grid org, whether the install is org-wide (then team_id is the
    # org's E… ID, the key of all its rows), and when the app left (None while installed).
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    org_wide: Mapped[bool] = mapped_column(Boolean, default=False)
    left_at: Mapped[dt.datetime | None]
    left_reason: Mapped[str | None] = mapped_column(String(64))


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("team_id", "slack_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    slack_id: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str | None]
    tz: Mapped[str | None] = mapped_column(String(64))  # IANA zone name from users.info
    tz_refreshed_at: Mapped[dt.datetime | None]
    # When Slack was last asked about this person (answered or not): a lookup that found no zone,
    # or was rate-limited, waits for the next daily sweep instead of being retried every pass.
    last_lookup_at: Mapped[dt.datetime | None]
    # rep (gets check-ins) | manager | guest (seen, e.g. opened App Home, but not opted in)
    role: Mapped[str] = mapped_column(String(16), default="rep")
    paused_until: Mapped[dt.datetime | None]
    # A permanent Slack error (user_not_found, account_inactive...) parks the rep's schedule.
    parked_reason: Mapped[str | None] = mapped_column(String(64))
    parked_at: Mapped[dt.datetime | None]
    prompt_sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]
    # When plan_next must look at this rep again (NEVER_PLANNED = at once); NULL while a check-in
    # is planned. Planning reads only the rows due here, not every rep (see storage.changes).
    next_plan_at: Mapped[dt.datetime | None] = mapped_column(default=lambda: NEVER_PLANNED)
    # Something the drift guard reads changed (pause, goals, team, cadence...) since its last look.
    guard_dirty: Mapped[bool] = mapped_column(Boolean, default=True)


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
        # One check-in per rep, kind, due moment and ref: inserting the next one twice is a no-op.
        # `ref` tells apart ad-hoc questions asked in the same instant (two managers at once).
        UniqueConstraint("team_id", "rep_id", "kind", "due_at", "ref"),
        Index("ix_checkins_due", "state", "due_at"),
        Index("ix_checkins_rep_due", "team_id", "rep_id", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    rep_id: Mapped[str] = mapped_column(String(32))
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), default=CheckInKind.SCHEDULED)  # a CheckInKind
    due_at: Mapped[dt.datetime]
    ref: Mapped[int] = mapped_column(Integer, default=0)  # the ManagerQuestion id of an ad-hoc one, else 0
    # a CheckInState: scheduled -> sending -> sent -> answered | skipped | expired
    state: Mapped[str] = mapped_column(String(16), default=CheckInState.SCHEDULED)
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
    # Carry-forward (issue 13): the next step the rep named, quoted by the next check-in on the goal.
    next_step: Mapped[str | None] = mapped_column(String(400))
    next_step_state: Mapped[str | None] = mapped_column(String(16))  # a StepState
    next_step_checkin: Mapped[int | None] = mapped_column(Integer)  # the check-in that quoted it


class ManagerQuestion(Base):
    __tablename__ = "manager_questions"
    __table_args__ = (Index("ix_questions_pair", "team_id", "manager_id", "rep_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    manager_id: Mapped[str] = mapped_column(String(32))
    rep_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(16))
    # The classifier's calibrated confidence in `label`; None for questions stored before it existed.
    tone_confidence: Mapped[float | None] = mapped_column(Float)
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


# ---- One delivery path (issue 9) ----------------------------------------------------------------


class OutboxMessage(Base):
    """One message to post: written in the same transaction as the change that causes it.

    `dedupe_key` is unique per workspace, so enqueuing the same message twice is a no-op; a worker
    claims a row with a conditional UPDATE and holds it until `lease_until`. Once sent, `channel`
    and `ts` say where it landed. `payload` is JSON: the message as data (or, for messages a
    listener built, the rendered message), rendered and posted by the one sender.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("team_id", "dedupe_key"),
        Index("ix_outbox_due", "state", "not_before"),
        Index("ix_outbox_recipient", "team_id", "recipient", "kind", "sent_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(24))  # an OutboxKind
    dedupe_key: Mapped[str] = mapped_column(String(128))
    recipient: Mapped[str] = mapped_column(String(32))
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id", ondelete="CASCADE"), index=True)
    payload: Mapped[str] = mapped_column(Text, default="{}")
    not_before: Mapped[dt.datetime]
    state: Mapped[str] = mapped_column(String(16), default=OutboxState.PENDING)  # an OutboxState
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    deferrals: Mapped[int] = mapped_column(Integer, default=0)  # times it waited for allowed hours
    last_error: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    # False from the claim until the worker's write-ahead mark lets this row's post start: a stuck
    # claim still False provably never reached Slack, so recovery gives it back without a lookup.
    started: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
# ---- The incremental pass (issue 17) --------------------------------------------------------------
# Every scan of an idle pass is bounded by an index on what is due, not by how many people exist.
Index("ix_users_next_plan", User.team_id, User.next_plan_at)
Index("ix_users_guard_dirty", User.team_id, User.guard_dirty)
Index("ix_users_tz_refreshed", User.team_id, User.tz_refreshed_at)
Index("ix_checkins_sent", CheckIn.team_id, CheckIn.sent_at)
Index("ix_checkins_closed", CheckIn.team_id, CheckIn.closed_at)
Index("ix_checkins_reminder", CheckIn.team_id, CheckIn.state, CheckIn.reminder_sent_at, CheckIn.sent_at)


class PairState(Base):
    """The drift guard's last evaluation of one manager-rep pair: its state for the admin aggregates,
    and when it must be evaluated again even if nothing it reads changes (a window rolling past an
    event, a contact gap reaching its limit, a cooldown ending)."""

    __tablename__ = "pair_states"
    __table_args__ = (UniqueConstraint("team_id", "manager_id", "rep_id"),
                      Index("ix_pair_states_next", "team_id", "next_eval_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    manager_id: Mapped[str] = mapped_column(String(32))
    rep_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # healthy | watch | drifting
    breached: Mapped[str] = mapped_column(String(128), default="")  # "frequency,tone"
    evaluated_at: Mapped[dt.datetime]
    next_eval_at: Mapped[dt.datetime | None]
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
# ---- Replies that land (issue 13) ----------------------------------------------------------------
# Added at the end so the other features' models above stay untouched.


class RelayedMessage(Base):
    """A person's own words passed on to another person: a reply in a coaching note's thread (either
    way), or a DM sent after the check-in was answered that the rep chose to send as a note.

    The text is stored before anything is sent, so nothing anyone wrote is lost; the unique message
    (sender, message_ts, recipient) makes a retried Slack event a no-op.
    """

    __tablename__ = "relayed_messages"
    __table_args__ = (UniqueConstraint("team_id", "sender", "message_ts", "recipient"),
                      Index("ix_relayed_recipient", "team_id", "recipient", "created_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    sender: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(32))
    rep_id: Mapped[str] = mapped_column(String(32))  # the rep of the conversation (sender or recipient)
    note_id: Mapped[int | None] = mapped_column(ForeignKey("coaching_notes.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    message_ts: Mapped[str] = mapped_column(String(32))  # the sender's own message
    status: Mapped[str] = mapped_column(String(16), default="queued")  # offered | queued | discarded
    created_at: Mapped[dt.datetime]


class AnswerPart(Base):
    """A later DM the rep added to an answer (after it was answered): its edit or deletion in Slack
    changes that part of the answer, as the first DM's does (`Answer.message_ts`)."""

    __tablename__ = "answer_parts"
    __table_args__ = (UniqueConstraint("team_id", "rep_id", "message_ts"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), index=True)
    rep_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime]


# A reply in a thread is matched to the message it answers by that message's ts.
Index("ix_outbox_ts", OutboxMessage.team_id, OutboxMessage.ts)


# ---- Conversations that don't dead-end (issue 13) -------------------------------------------------
# Added at the end so the other features' models above stay untouched.


class HelpState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"  # a manager responded (a note, thanks) or marked it resolved
    WITHDRAWN = "withdrawn"  # the rep cleared it


class StepState(StrEnum):
    PENDING = "pending"  # named, waiting for the next check-in on its goal
    CARRIED = "carried"  # quoted by that check-in
    DROPPED = "dropped"  # the rep dropped it
    SUPERSEDED = "superseded"  # a later answer on the same goal named a newer step


class HelpRequest(Base):
    """A rep's request for help on one check-in (a button, the form, or their own words).

    One row per check-in: clearing and asking again reopen the same row. Answer.help_wanted mirrors
    "open" for what is rendered from answers (the relayed copy, the form).
    """

    __tablename__ = "help_requests"
    __table_args__ = (UniqueConstraint("checkin_id"), Index("ix_help_open", "team_id", "state", "nudged_at"),
                      Index("ix_help_rep", "team_id", "rep_id", "created_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    rep_id: Mapped[str] = mapped_column(String(32))
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id", ondelete="CASCADE"))
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="SET NULL"))
    detail: Mapped[str | None] = mapped_column(String(400))  # the rep's words, when read from a DM
    source: Mapped[str] = mapped_column(String(16))  # button | form | words
    state: Mapped[str] = mapped_column(String(16), default=HelpState.OPEN)  # a HelpState
    created_at: Mapped[dt.datetime]
    resolved_at: Mapped[dt.datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    nudged_at: Mapped[dt.datetime | None]  # when the one nudge to the manager(s) was queued


# ---- OAuth installs (issue 11) -------------------------------------------------------------------
# slack_sdk's own installation and state tables, built by its classmethods on OUR metadata, so our
# Alembic migrations create them (the stores in storage.installations never call create_all).
SLACK_INSTALLATIONS = SQLAlchemyInstallationStore.build_installations_table(Base.metadata, "slack_installations")
SLACK_BOTS = SQLAlchemyInstallationStore.build_bots_table(Base.metadata, "slack_bots")
SLACK_OAUTH_STATES = SQLAlchemyOAuthStateStore.build_oauth_states_table(Base.metadata, "slack_oauth_states")


# ---- Time off (issue 13.4) ----------------------------------------------------------------------


class Leave(Base):
    """A rep's time off, booked ahead: whole local days, first to last inclusive, in the rep's zone.

    Nothing is sent to the rep on these days (scheduling.respect treats them as the rep's holidays),
    and the drift guard's clocks stop for them. `/checkin pause 2w` still uses users.paused_until.
    """

    __tablename__ = "leaves"
    __table_args__ = (Index("ix_leaves_rep", "team_id", "rep_id", "last_day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    rep_id: Mapped[str] = mapped_column(String(32))
    first_day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime]


# ---- Rate budgets and the users.list sweep (issue 10) ----------------------------------------


class RateBudget(Base):
    """One Web API method's token bucket for one workspace, shared by every process that calls
    Slack for it (storage.budget; PostgreSQL only, SQLite runs one process and keeps it in memory).
    Times are the database's clock, so hosts whose clocks differ still agree."""

    __tablename__ = "rate_budget"
    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    method: Mapped[str] = mapped_column(String(64), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    refilled_at: Mapped[dt.datetime]
    # A 429's Retry-After: nobody calls this method for this workspace before then.
    paused_until: Mapped[dt.datetime | None]


class UserSweep(Base):
    """Where a workspace's daily users.list sweep stands: a page cursor to resume after a pause."""

    __tablename__ = "user_sweeps"
    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[dt.datetime]
    cursor: Mapped[str | None] = mapped_column(String(255))
    finished_at: Mapped[dt.datetime | None]
