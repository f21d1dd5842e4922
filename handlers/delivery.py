"""The one sender: claim due outbox rows, hold back what may not land yet, post, record.

Every message the bot posts on its own or on someone's behalf goes through `drain`: the dispatch
pass runs it for everything due, and a listener runs it for the rows it just wrote, so a
manager's question still feels immediate when it is allowed to go. One claim (storage.outbox),
one respect policy (scheduling.respect), one error policy (below):

- the recipient can't be reached (`user_not_found`, …): the row fails and the person is parked;
- a passing fault (5xx, 429 past the client's retries, a refused connection): back off and retry;
- the token or workspace is gone: stop at once, give back every claim, one log line;
- the outcome is unknown (the reply was lost): keep the claim, and look before posting again.

Pipelined: a claimed batch is posted a chunk of recipients at a time; while one chunk is being
posted, the chunk before it is recorded (with the next chunk's write-ahead mark, see `drain`) and
the next batch is claimed and prepared, so the posting threads never wait for the database.
Crash recovery (claims a dead worker left) is handlers.recovery.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from core import metrics
from core.services import Services
from handlers.delivery_checkins import CHECKIN_KINDS, prepare
from handlers.pacing import LISTENER_WAIT, MAX_WAIT, Pacing
from handlers.render.outbox import EVENT_TYPES, RENDERERS, stamp
from handlers.sender import SendResult
from handlers.text import slack_time
from handlers.transport import KeepAlive, Transport, TransportFactory
from scheduling.plan import MAX_LATENESS
from scheduling.report import PassReport, pass_token
from scheduling.respect import allowed_from, hours_of, load_people
from storage import data_rights, guard, lifecycle, outbox
from storage.changes import touch_reps
from storage.models import (
    AnswerRelay,
    CadenceAgreement,
    DigestSent,
    Membership,
    OutboxKind,
    OutboxState,
    User,
)
from storage.outbox import Claimed

log = logging.getLogger(__name__)

# Rows claimed per transaction: small enough that a claimed batch is posted well within the
# claim's lease, large enough that the per-batch queries cost little per message.
BATCH = 256
CONCURRENCY = 16
# A batch is posted CHUNK recipients at a time, at most AHEAD chunks under way: what a worker killed
# mid-pass leaves for recovery to look up in Slack (each chunk is marked started, then recorded).
# Each chunk costs one transaction (its record, with the next chunk's mark). In bench/dispatch.py
# (4,000 reps, SQLite) chunks of 32 or 64 recipients cost about 0.07 ms more CPU per check-in than
# one record per batch (0.75 against 0.68 ms), 128 nothing measurable; but every recipient of the
# two chunks under way may need a paced Tier 3 lookup after a crash (about 47 a minute), so small.
CHUNK = 2 * CONCURRENCY
AHEAD = 2
NOT_STARTED = SendResult("unsent", error="not sent: pass stopped")
# Slack answers these for a passing reason too (a DM not yet open, a workspace hiccup): retried
# with back-off, and taken as "can't be reached" (the person is parked) only on the PARK_AFTER-th try.
RETRIED_BEFORE_PARKING = frozenset({"channel_not_found"})
PARK_AFTER = 3
# Kinds a person is waiting for right now; `serve` drains these within seconds.
INTERACTIVE = frozenset({
    OutboxKind.CHECKIN_NOW, OutboxKind.MANAGER_QUESTION, OutboxKind.ANSWER_RELAY, OutboxKind.COACHING_NOTE,
    OutboxKind.THANKS, OutboxKind.CADENCE_PROPOSAL, OutboxKind.CADENCE_OUTCOME, OutboxKind.TEAM_INVITE,
    OutboxKind.INVITE_OUTCOME, OutboxKind.SUMMARY_PAGE, OutboxKind.NOTE_REPLY, OutboxKind.RELAY_REFRESH,
    OutboxKind.RETRACT, OutboxKind.HEALTH_CHART, OutboxKind.SUMMARY_CSV, OutboxKind.CHECKIN_CLOSED,
    OutboxKind.CHECKIN_REFRESH,
})
# Kinds the pass works itself, outside this worker (a Home tab is composed from the services).
ELSEWHERE = frozenset({OutboxKind.HOME_REFRESH})
# Kinds that change what the recipient already has and never post a new message (safe to repeat).
EDITS = frozenset({OutboxKind.RETRACT, OutboxKind.HOME_REFRESH, OutboxKind.CHECKIN_CLOSED,
                   OutboxKind.CHECKIN_REFRESH})
# An edit that fails for good leaves its recipient reachable for everything else: never parks.
NEVER_PARKS = frozenset({OutboxKind.RETRACT, OutboxKind.CHECKIN_CLOSED, OutboxKind.CHECKIN_REFRESH})


# Kinds that chat.update a message already posted (payload "channel"/"ts"), stamped with their own
# outbox_id like a post, so recovery finds them the same way.
UPDATES = frozenset({OutboxKind.RELAY_REFRESH})

# A row for someone whose zone was never read waits this long at most for the pass's lookup; the
# lookup makes it due again as soon as it has the zone. Replies to a person's own action don't wait.
ZONE_WAIT = dt.timedelta(minutes=2)
SENT_BEFORE_ZONE = INTERACTIVE


def zone_unread(user: User | None) -> bool:
    return (user is not None and user.tz_refreshed_at is None and user.last_lookup_at is None
            and user.parked_reason is None)


# How a pass's summary counts what it sent, by kind (check-ins count as "sent").
REPORT_KEYS = {OutboxKind.CHECKIN_PROMPT: "sent", OutboxKind.CHECKIN_NOW: "sent",
               OutboxKind.CHECKIN_REMINDER: "reminders", OutboxKind.TEAM_DIGEST: "digests",
               OutboxKind.DRIFT_WARNING: "drift_warnings", OutboxKind.CONTACT_GAP: "contact_gaps",
               OutboxKind.MANAGER_QUESTION: "questions", OutboxKind.RETRACT: "retracted",
               OutboxKind.HELP_NUDGE: "help_nudges"}


@dataclass(frozen=True)
class Job:
    row: Claimed
    message: dict[str, Any]


@dataclass
class _Batch:
    """A claimed batch being posted: one future per recipient, whose messages go in order (a long
    summary's pages, a check-in then its question), while different people's go side by side."""

    jobs: list[Job]
    futures: list[Future[list[SendResult]]] = field(default_factory=list)
    groups: list[list[int]] = field(default_factory=list)  # job indices per future

    def start(self, transport: Transport) -> _Batch:
        by_recipient: dict[str, list[int]] = {}
        for index, job in enumerate(self.jobs):
            by_recipient.setdefault(job.row.recipient, []).append(index)
        self.groups = list(by_recipient.values())
        self.futures = [transport.submit([self.jobs[i].message for i in group]) for group in self.groups]
        return self

    def results(self) -> list[SendResult]:
        out: list[SendResult | None] = [None] * len(self.jobs)
        stopped = [SendResult("unsent", error="not sent: pass stopped")]
        for group, future in zip(self.groups, self.futures, strict=True):
            results = stopped * len(group) if future.cancelled() else future.result()
            for index, result in zip(group, results, strict=True):
                out[index] = result
        return [r for r in out if r is not None]


class _Lazy:
    """The drain's transport, opened for its first post only: a drain with nothing to send (every
    few seconds in `serve`) starts no thread and opens no session."""

    def __init__(self, open_transport: Callable[[], Transport]) -> None:
        self._open = open_transport
        self._transport: Transport | None = None

    def submit(self, messages: list[dict[str, Any]]) -> Future[list[SendResult]]:
        if self._transport is None:
            self._transport = self._open()
        return self._transport.submit(messages)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def __enter__(self) -> _Lazy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def drain(services: Services, now: dt.datetime | None = None, report: PassReport | None = None, *,
          ids: Collection[int] | None = None, kinds: Iterable[OutboxKind] | None = None,
          concurrency: int = CONCURRENCY, transport: TransportFactory = KeepAlive,
          then: Callable[[], None] | None = None, max_wait: float = MAX_WAIT) -> PassReport:
    """Post everything due (or only the rows `ids`, or only `kinds`), batch by batch, each post
    within the workspace's shared rate budget (handlers.pacing).

    A claimed batch is posted a chunk at a time (CHUNK recipients): a chunk is marked as started
    (outbox.mark_started, one UPDATE) before any of its posts may begin, and recorded once its posts
    are done, with at most AHEAD chunks under way. A worker that dies therefore leaves at most those
    chunks for recovery to look up in Slack; the rest of its claims provably never started.

    `then` runs once, after the first chunk's posts have started (or when there is nothing to
    post): what a pass does after sending, without holding the sending up.

    Once `services.stopping` is set (SIGTERM) nothing more is claimed or started: the posts in
    flight finish and are recorded, and the rest of what this drain holds is given back at once.
    """
    now = now or services.now()
    report = report if report is not None else PassReport()
    if ids is not None and not ids:
        return report
    token = pass_token()
    kind_list = list(kinds) if kinds is not None else None
    looking_up = then is not None  # zones are being read beside this drain: unread ones may wait
    stopping = services.stopping
    pacing = Pacing(services, max_wait)
    with _Lazy(lambda: transport(services.client, concurrency, stopping, pacing)) as posting:
        flight: deque[_Batch] = deque()  # chunks being posted, oldest first

        def settle(keep: int, mark: list[int] | None = None) -> tuple[str | None, set[int]]:
            """Record finished chunks until at most `keep` are under way, then mark the claims `mark`
            started, in the same transaction as the last record (one per chunk on the hot path).
            Returns a fatal error (nothing is marked then), and the claims marked."""
            mine: set[int] = set()
            while len(flight) > keep:
                batch = flight.popleft()
                results = batch.results()  # waits for the chunk's posts, outside any transaction
                with services.sessions.begin() as session:
                    fatal = record(session, services.team_id, [(j.row, r) for j, r in zip(batch.jobs, results,
                                                                                            strict=True)], now, report)
                    if not fatal and mark and len(flight) <= keep:
                        mine, mark = outbox.mark_started(session, token, mark), None
                if fatal:
                    return fatal, set()
            if mark:
                with services.sessions.begin() as session:
                    mine = outbox.mark_started(session, token, mark)
            return None, mine

        def stop(fatal: str) -> PassReport:
            for batch in flight:
                for future in batch.futures:
                    future.cancel()  # not started yet: given back, unsent
            settle(0)
            log.error("Slack refused the bot token (%s); stopped sending, nothing is lost", fatal)
            report.add("fatal")
            report.fatal = fatal
            return report

        while True:
            if stopping.is_set():
                settle(0)
                return report
            with services.sessions.begin() as session:
                claimed = outbox.claim_due(session, now, token, BATCH, team_id=services.team_id, kinds=kind_list,
                                           ids=ids, claimed_at=max(now, services.now()), exclude=ELSEWHERE)
                jobs = _prepare(session, services, claimed, now, report, looking_up) if claimed else []
            chunks = _chunks(jobs, CHUNK)
            while chunks:
                if stopping.is_set():
                    _give_back(services, [job for chunk in chunks for job in chunk], now, report)
                    break
                chunk = chunks.popleft()
                # The write-ahead mark, before any of these posts may begin.
                fatal, mine = settle(AHEAD - 1, [job.row.id for job in chunk])
                if fatal:
                    _give_back(services, [job for rest in (chunk, *chunks) for job in rest], now, report)
                    return stop(fatal)
                # A claim taken over meanwhile (this worker outlived its lease) is the other worker's now.
                flight.append(_Batch([job for job in chunk if job.row.id in mine]).start(posting))
                if then is not None:
                    then()  # once, while the first chunk is being posted (a pass's lookups)
                    then = None
            if then is not None:
                then()
                then = None
            if not claimed:
                fatal, _ = settle(0)
                return stop(fatal) if fatal else report


def _chunks(jobs: list[Job], size: int) -> deque[list[Job]]:
    """A batch's jobs in chunks of `size` recipients, each recipient's messages in one chunk, in order."""
    by_recipient: dict[str, list[Job]] = {}
    for job in jobs:
        by_recipient.setdefault(job.row.recipient, []).append(job)
    groups = list(by_recipient.values())
    return deque([job for group in groups[i:i + size] for job in group] for i in range(0, len(groups), size))


def _give_back(services: Services, jobs: list[Job], now: dt.datetime, report: PassReport) -> None:
    """Claims this drain will not start (stopping, or the token is gone): due again at once."""
    if jobs:
        with services.sessions.begin() as session:
            record(session, services.team_id, [(job.row, NOT_STARTED) for job in jobs], now, report)


def deliver_now(services: Services, ids: Sequence[int]) -> dict[int, outbox.Status]:
    """A listener's own rows, posted now if their recipients' hours allow (after its commit).

    Returns what became of each: sent, waiting (and until when), or failed.
    """
    report = drain(services, ids=ids, max_wait=LISTENER_WAIT)
    if report.fatal:
        log.warning("immediate delivery stopped: %s", report.fatal)
    states: dict[int, outbox.Status] = {}
    with services.sessions.begin() as session:
        for outbox_id in ids:
            found = outbox.status_of(session, outbox_id)
            if found is not None:
                states[outbox_id] = found
    return states


def delivered(states: dict[int, outbox.Status], outbox_id: int | None) -> bool:
    found = states.get(outbox_id) if outbox_id is not None else None
    return found is not None and found.state is OutboxState.SENT


def undeliverable(states: dict[int, outbox.Status], outbox_id: int | None) -> bool:
    found = states.get(outbox_id) if outbox_id is not None else None
    return found is None or found.state in (OutboxState.FAILED, OutboxState.CANCELLED)


def _prepare(session: Session, services: Services, claimed: list[Claimed], now: dt.datetime,
             report: PassReport, looking_up: bool = False) -> list[Job]:
    """Hold back what may not land yet, then render the rest (or cancel what is no longer wanted)."""
    recipients = {r.recipient for r in claimed}
    people = load_people(session, services.team_id, recipients)
    hours = hours_of(session, services.config, services.team_id, recipients, people, now)
    ready: list[Claimed] = []
    deferred: list[tuple[int, dt.datetime]] = []
    too_late: list[Claimed] = []
    for row in claimed:
        moment = allowed_from(row.kind, hours[row.recipient], now)
        if (looking_up and moment <= now and row.deferrals == 0 and row.kind not in SENT_BEFORE_ZONE
                and zone_unread(people.get(row.recipient))):
            # Slack has not been asked their zone yet (the pass asks beside this sending): hold it,
            # once, until it has, so their hours are theirs and not default_timezone's (see
            # apply_profiles). If the lookup fails, the row goes by default_timezone's hours.
            deferred.append((row.id, now + ZONE_WAIT))
        elif moment <= now:
            ready.append(row)
        elif row.kind is OutboxKind.CHECKIN_PROMPT and moment - row.not_before > MAX_LATENESS:
            # A scheduled check-in that can't land within its lateness window is skipped for this
            # slot (the next one is planned as usual) rather than arriving a day late.
            too_late.append(row)
        else:
            deferred.append((row.id, moment))
            metrics.record_message(EVENT_TYPES[row.kind], "held")
    outbox.defer(session, deferred)
    report.add("deferred", len(deferred))
    outbox.cancel(session, [(r.id, "outside_allowed_hours") for r in too_late])
    lifecycle.expire(session, [(r.checkin_id, "outside_allowed_hours") for r in too_late if r.checkin_id], now)
    report.add("expired", len(too_late))
    checkin_rows = [r for r in ready if r.kind in CHECKIN_KINDS]
    decided = prepare(session, services.config, services.team_id, checkin_rows, now, report, people)
    messages = decided.messages
    cancelled = decided.cancelled
    for row in ready:
        if row.kind in CHECKIN_KINDS:
            continue
        message = RENDERERS[row.kind](session, row)
        if message is None:
            cancelled.append((row.id, "subject gone"))
        else:
            messages.append((row, message))
    outbox.cancel(session, cancelled)
    report.add("cancelled", len(cancelled))
    return [Job(row, stamp(message, row.id)) for row, message in messages]


def record(session: Session, team_id: str, outcomes: Sequence[tuple[Claimed, SendResult]], now: dt.datetime,
           report: PassReport) -> str | None:
    """Write what Slack said for each post. Returns the fatal error, if any."""
    fatal: str | None = None
    sent: list[tuple[Claimed, str | None, str | None]] = []
    unknown: list[tuple[int, str]] = []
    failed: list[tuple[Claimed, str]] = []
    retry: list[tuple[Claimed, str]] = []
    unsent: list[Claimed] = []
    for row, result in outcomes:
        if result.outcome == "unsent":
            unsent.append(row)  # never reached Slack: given back untouched, for any worker
        elif result.outcome == "ok":
            sent.append((row, result.channel, result.ts))
        elif result.outcome == "unknown":
            unknown.append((row.id, result.error or "no reply"))
        elif result.outcome == "permanent" and result.error in RETRIED_BEFORE_PARKING and row.attempts < PARK_AFTER:
            retry.append((row, result.error or "unreachable"))  # once is not yet "can't be reached"
        elif result.outcome == "permanent" and row.kind in NEVER_PARKS:
            failed.append((row, result.error or "refused"))
        elif result.outcome == "permanent":
            failed.append((row, result.error or "unreachable"))
            park(session, team_id, row.recipient, result.error or "unreachable", now)
        else:
            if result.outcome == "fatal":
                fatal = result.error
            retry.append((row, result.error or "transient"))
    outbox.mark_sent(session, [(r.id, channel, ts) for r, channel, ts in sent], now)
    after_sent(session, team_id, sent, now)
    outbox.unconfirmed(session, unknown, now)
    outbox.fail(session, [(r.id, error) for r, error in failed])
    if fatal:
        outbox.release_now(session, [r.id for r, _ in retry])
        given_up: set[int] = set()
    else:
        given_up = set(outbox.release(session, [(r.id, r.attempts, error) for r, error in retry], now))
    outbox.release_now(session, [r.id for r in unsent])
    lifecycle.release(session, [(r.checkin_id, e) for r, e in retry
                                if r.kind in CHECKIN_KINDS and r.checkin_id and r.id not in given_up])
    lifecycle.release(session, [(r.checkin_id, "not sent: stopped") for r in unsent
                                if r.kind in CHECKIN_KINDS and r.checkin_id])
    failed += [(r, f"gave up: {e}") for r, e in retry if r.id in given_up]
    after_failed(session, failed, now)
    for row, _, _ in sent:
        report.add(REPORT_KEYS.get(row.kind, f"sent:{row.kind}"))
    report.add("unconfirmed", len(unknown))
    report.add("parked", len([1 for r, e in failed if not e.startswith("gave up") and r.kind not in NEVER_PARKS]))
    report.add("failed", len(failed))
    report.add("retry_later", len(retry) - len(given_up))
    report.add("given_back", len(unsent))
    return fatal


def after_sent(session: Session, team_id: str, sent: Sequence[tuple[Claimed, str | None, str | None]],
               now: dt.datetime) -> None:
    """What each kind's sending changes besides its outbox row."""
    checkins: list[tuple[int, str | None, str | None, dt.datetime]] = []
    newest: dict[str, int] = {}  # rep -> the check-in just sent to them
    for row, channel, ts in sent:
        if row.kind in CHECKIN_KINDS and row.checkin_id is not None:
            checkins.append((row.checkin_id, channel, ts, now))
            if row.kind is OutboxKind.MANAGER_QUESTION:
                guard.question_delivered(session, int(row.payload["question_id"]), channel, ts, now)
            else:
                newest[row.recipient] = max(newest.get(row.recipient, 0), row.checkin_id)
        elif row.kind is OutboxKind.ANSWER_RELAY:
            session.execute(update(AnswerRelay).where(AnswerRelay.id == int(row.payload["relay_id"]))
                            .values(channel=channel, message_ts=ts).execution_options(synchronize_session=False))
        elif row.kind in (OutboxKind.DRIFT_WARNING, OutboxKind.CONTACT_GAP):
            guard.warning_delivered(session, int(row.payload["claim_id"]),
                                    [int(i) for i in row.payload["warning_ids"]], ts)
        elif row.kind is OutboxKind.TEAM_DIGEST:
            session.execute(update(DigestSent).where(DigestSent.id == int(row.payload["digest_id"]))
                            .values(message_ts=ts, answers=len(row.payload["answer_ids"]))
                            .execution_options(synchronize_session=False))
    lifecycle.mark_sent(session, checkins)
    lifecycle.supersede_older(session, team_id, newest, now)
    data_rights.retract_late_copies(session, team_id, sent, now)


def after_failed(session: Session, failed: Sequence[tuple[Claimed, str]], now: dt.datetime) -> None:
    """A message that will never be delivered: undo what was waiting on it."""
    for row, error in failed:
        if row.kind in CHECKIN_KINDS and row.checkin_id is not None:
            lifecycle.expire(session, [(row.checkin_id, error)], now)
            if row.kind is OutboxKind.MANAGER_QUESTION:
                guard.release_question(session, int(row.payload["question_id"]))
        elif row.kind is OutboxKind.TEAM_INVITE:
            # The rep never saw it, so nobody joins on their behalf.
            session.execute(delete(Membership).where(Membership.id == int(row.payload["membership_id"]),
                                                     Membership.status == "pending"))
            touch_reps(session, row.team_id, [row.recipient])
        elif row.kind is OutboxKind.CADENCE_PROPOSAL:
            session.execute(update(CadenceAgreement).where(
                CadenceAgreement.id == int(row.payload["agreement_id"]), CadenceAgreement.status == "proposed")
                .values(status="declined", decided_at=now).execution_options(synchronize_session=False))
        if error.startswith("gave up"):  # an unreachable recipient was logged once, when parked
            log.warning("could not deliver a %s to %s: %s", row.kind, row.recipient, error)


def park(session: Session, team_id: str, user_id: str, reason: str, now: dt.datetime) -> None:
    """Stop scheduling someone Slack says we can't reach; logged once, when it first happens."""
    result = session.execute(
        update(User).where(User.team_id == team_id, User.slack_id == user_id, User.parked_reason.is_(None))
        .values(parked_reason=reason[:64], parked_at=now).execution_options(synchronize_session=False))
    if getattr(result, "rowcount", 0):
        log.warning("parked the schedule of %s: Slack said %s", user_id, reason)
        touch_reps(session, team_id, [user_id])  # the parked rep's pairs leave the drift guard


def waiting_note(services: Services, states: dict[int, outbox.Status], outbox_id: int | None,
                 recipient: str, viewer: str | None = None) -> str:
    """For the person who set a message off (`viewer`): when it reaches its recipient ("" if it
    already has). Slack shows the time in the viewer's own zone; the fallback is in it too."""
    found = states.get(outbox_id) if outbox_id is not None else None
    if found is None or found.state is OutboxState.SENT:
        return ""
    if found.state in (OutboxState.FAILED, OutboxState.CANCELLED):
        return " Slack couldn't deliver it, so it wasn't sent."
    if not found.deferred:
        return " Slack didn't take it just now; I'll keep trying, and it will arrive once."
    reader = viewer or recipient
    with services.sessions.begin() as session:
        zone = hours_of(session, services.config, services.team_id, [reader])[reader].zone
    return (f" It will reach them at the start of their working day ({slack_time(found.not_before, zone.key)}), "
            "so it doesn't land in their evening, weekend or holiday.")
