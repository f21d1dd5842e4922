"""Crash recovery: claims whose worker died or whose answer was lost, settled without a duplicate.

A claim still held after its lease (or whose worker ran on this host and is gone) may or may not
have reached Slack. Recovery settles each one exactly once, spending as few Web API calls as it
can, all of them within the workspace's shared budget (handlers.pacing):

- **Never started**: the worker marks a chunk of claims started (outbox.mark_started) before any
  of its posts may begin. A claim not marked provably never reached Slack: it is given back at
  once, with no lookup (the take-over is conditional on it still being unmarked). So is an edit
  or a Home tab (EDITS, ELSEWHERE): made again, it shows the same.
- **Possibly started**: looked for in the recipient's DM by its `outbox_id` metadata, one
  conversations.history walk per DM covering all of that DM's claims (from the oldest). The DM's
  id comes from the outbox (Slack answered it for an earlier post to the same person), so
  conversations.open is asked only for someone never posted to. Found: marked sent as of Slack's
  ts. Not found: given back, to be posted again.
- **No budget in time**, a 429 (which pauses the method for every worker), or Slack failing: the
  claims stay as they are, for the next pass. Never a guess.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy.orm import Session

from core.services import Services
from handlers import pacing
from handlers.delivery import EDITS, ELSEWHERE, UPDATES, after_sent
from handlers.delivery_checkins import CHECKIN_KINDS
from handlers.render.outbox import EVENT_TYPES
from handlers.sender import classify_error
from scheduling.report import PassReport, claimant_gone, host_prefix, pass_token
from storage import lifecycle, outbox
from storage.changes import touch_reps
from storage.models import OutboxKind
from storage.outbox import Claimed

log = logging.getLogger(__name__)

# A lookup waits at most this long for its budget; a pass spends at most RECOVERY_SECONDS on
# lookups (Tier 3 is about 50 calls a minute): what is left waits, claimed, for the next pass.
LOOKUP_WAIT = 5.0
RECOVERY_SECONDS = 20.0
# conversations.history pages per DM: the claims are minutes old, and a DM holds few messages.
MAX_PAGES = 5
# Kinds whose post goes to the recipient's DM (channel = their user id), so the channel Slack
# answered for them is that DM.
POSTED_TO_DM = frozenset(k for k in OutboxKind if k not in UPDATES | EDITS | ELSEWHERE)
# Kinds whose rows are done again rather than looked for: they post nothing new (an edit's message
# is older than its row, so a walk from the row's time would not find it anyway).
REPEATABLE = EDITS | ELSEWHERE


def recover(services: Services, now: dt.datetime, report: PassReport, *, max_wait: float = LOOKUP_WAIT,
            within: float = RECOVERY_SECONDS) -> None:
    """Settle the claims whose lease ran out or whose worker is gone (see the module's docstring)."""
    with services.sessions.begin() as session:
        rows = outbox.stuck(session, now, services.team_id)
        # A claim whose worker ran here and has died need not wait out its lease.
        dead = [r for r in outbox.held_by_host(session, host_prefix(), now, services.team_id)
                if claimant_gone(r.claimed_by)]
    rows += dead
    if not rows:
        return
    gone = {r.id for r in dead}
    token = pass_token()
    # Safe to do again (a Home tab published again, an edit made again shows the same), or
    # provably never posted: given back without a lookup.
    unstarted = [r for r in rows if r.kind in REPEATABLE or not r.started]
    with services.sessions.begin() as session:
        _settle(session, services, [(r, None) for r in unstarted], token, now, gone, report, unstarted=True)
    started = [r for r in rows if r.kind not in REPEATABLE and r.started]
    if not started:
        return
    by_recipient: dict[str, list[Claimed]] = {}
    for row in sorted(started, key=lambda r: (r.not_before, r.id)):
        by_recipient.setdefault(row.recipient, []).append(row)
    with services.sessions.begin() as session:
        known = outbox.dm_channels(session, services.team_id, by_recipient, POSTED_TO_DM)
    deadline = time.monotonic() + within
    left = 0
    for recipient, claims in by_recipient.items():
        wait = min(max_wait, deadline - time.monotonic())
        if left or wait <= 0:
            left += len(claims)
            continue
        try:
            channel = known.get(recipient) or _open(services, recipient, wait)
            found = _look_in(services, channel, claims, deadline, max_wait)
        except pacing.Limited:
            left += len(claims)  # no budget in time (or paused by a 429): the next pass, not a guess
            continue
        except (SlackApiError, SlackRequestError, URLError, TimeoutError, OSError) as exc:
            log.warning("could not look for earlier sends to %s: %s", recipient, classify_error(exc)[1])
            report.add("lookup_failed", len(claims))
            continue
        with services.sessions.begin() as session:
            _settle(session, services, [(r, (channel, found[r.id]) if r.id in found else None) for r in claims],
                    token, now, gone, report)
    if left:
        log.info("%d claims left for the next pass's recovery (lookup budget)", left)
        report.add("recovery_deferred", left)


def _open(services: Services, recipient: str, wait: float) -> str:
    def call(client: WebClient) -> str:
        return str(client.conversations_open(users=recipient)["channel"]["id"])
    return pacing.call(services, services.team_id, "conversations.open", call, wait)


def _oldest(row: Claimed) -> float:
    oldest = (row.not_before - dt.timedelta(minutes=1)).timestamp()
    if row.kind in UPDATES:  # the message it changed is older: look from that one on
        oldest = min(oldest, float(row.payload["ts"]) - 1)
    return oldest


def _look_in(services: Services, channel: str, claims: Sequence[Claimed], deadline: float,
             max_wait: float) -> dict[int, str]:
    """One conversations.history walk of `channel` from its oldest claim: outbox_id -> ts found."""
    wanted = {r.id: EVENT_TYPES[r.kind] for r in claims}
    oldest = f"{min(_oldest(r) for r in claims):.6f}"
    found: dict[int, str] = {}
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        def call(client: WebClient, cursor: str | None = cursor) -> Any:
            return client.conversations_history(channel=channel, include_all_metadata=True, oldest=oldest,
                                                limit=100, cursor=cursor)
        page = pacing.call(services, services.team_id, "conversations.history", call,
                           max(0.0, min(max_wait, deadline - time.monotonic())))
        for message in page.get("messages") or []:
            metadata = message.get("metadata") or {}
            value = str((metadata.get("event_payload") or {}).get("outbox_id", ""))
            if value.isdigit() and wanted.get(int(value)) == metadata.get("event_type"):
                found[int(value)] = str(message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if len(found) == len(wanted) or not cursor:
            break
    return found


def _settle(session: Session, services: Services, outcomes: Sequence[tuple[Claimed, tuple[str, str] | None]],
            token: str, now: dt.datetime, gone: set[int], report: PassReport, unstarted: bool = False) -> None:
    """Found in Slack: sent as of its ts. Not found (or never started): given back, due at once."""
    for row, found in outcomes:
        # Only the claim we looked at: if another worker took it over meanwhile, leave it be.
        if not outbox.reclaim(session, row, token, now, claimant_gone=row.id in gone,
                              unstarted=unstarted and row.kind not in REPEATABLE):
            continue
        if found:
            # sent_at is when Slack posted it (the message ts), which reminders count from.
            sent_at = dt.datetime.fromtimestamp(float(found[1]), dt.UTC)
            outbox.mark_sent(session, [(row.id, found[0], found[1])], sent_at)
            after_sent(session, services.team_id, [(row, found[0], found[1])], sent_at)
            # sent_at is in the past, maybe before the last pass's mark: say so explicitly.
            touch_reps(session, services.team_id, [row.recipient])
            report.add("recovered")
        else:
            outbox.release_now(session, [row.id])
            if row.kind in CHECKIN_KINDS and row.checkin_id is not None:
                lifecycle.release(session, [(row.checkin_id, "recovered: never reached Slack")])
            report.add("released")
            if unstarted:
                report.add("released_unstarted")
