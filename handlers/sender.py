"""Posting to Slack from the dispatcher, telling permanent errors from transient ones.

The WebClient already retries 429 (honouring Retry-After), 5xx and connection resets; what still
fails here after those retries is classified so the caller can park, retry later, or stop.
A post whose answer never came (a read timeout, a dropped connection) is "unknown": Slack may
well have posted it, so the caller must look for it before posting again.
"""

from __future__ import annotations

import http.client
import json
import logging
from dataclasses import dataclass
from typing import Any, Literal
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from core import logcontext, metrics

log = logging.getLogger(__name__)

# The rep can't be messaged until a person changes something: stop trying and park the schedule.
PERMANENT_USER_ERRORS = frozenset({
    "user_not_found", "cannot_dm_bot", "user_disabled", "users_not_found",
    "channel_not_found", "is_archived", "not_in_channel", "user_is_restricted",
})
# The whole app can't post: every send would fail the same way. `account_inactive` from a bot
# token means the bot's own user or workspace was deactivated, not the recipient's.
FATAL_ERRORS = frozenset({"invalid_auth", "token_revoked", "account_inactive", "account_inactive_app", "not_authed",
                          "missing_scope", "no_permission", "token_expired"})

Outcome = Literal["ok", "permanent", "transient", "fatal", "unknown"]


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    channel: str | None = None
    ts: str | None = None
    error: str | None = None
    retry_after: float | None = None  # a 429's Retry-After, in seconds


def retry_after_of(exc: SlackApiError) -> float | None:
    """Seconds Slack asked us to wait (HTTP 429 Retry-After), or None if it wasn't a 429."""
    if exc.response.status_code != 429:
        return None
    headers = {str(k).lower(): v for k, v in (exc.response.headers or {}).items()}
    value = headers.get("retry-after")
    value = value[0] if isinstance(value, list) and value else value
    try:
        return max(1.0, float(str(value)))
    except ValueError:
        return 1.0


def classify_error(exc: Exception) -> tuple[Outcome, str]:
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        # A 5xx body is an HTML page that slack_sdk turns into a long "error"; keep a short code,
        # which also fits checkins.last_error (128 characters, enforced by PostgreSQL).
        error = f"http_{status}" if status >= 500 else str(exc.response.get("error") or f"http_{status}")[:100]
        if error in PERMANENT_USER_ERRORS:
            return "permanent", error
        if error in FATAL_ERRORS:
            return "fatal", error
        return "transient", error
    return "transient", type(exc).__name__


# How each outcome shows in the checkin_messages metric.
_RESULT_LABEL: dict[Outcome, str] = {"ok": "sent", "permanent": "failed", "fatal": "failed",
                                     "transient": "deferred", "unknown": "deferred"}


def message_kind(kwargs: dict[str, Any]) -> str | None:
    """The contract metadata event type of a message about to be posted (CONTRACT §4)."""
    meta = kwargs.get("metadata")
    kind = meta.get("event_type") if isinstance(meta, dict) else getattr(meta, "event_type", None)
    return str(kind) if kind else None


def post(client: WebClient, **kwargs: Any) -> SendResult:
    kind = message_kind(kwargs)
    meta = kwargs.get("metadata")
    payload = meta.get("event_payload") if isinstance(meta, dict) else getattr(meta, "event_payload", None)
    with logcontext.bind(kind=kind, outbox_id=(payload or {}).get("outbox_id")):
        result = _post(client, **kwargs)
    metrics.record_message(kind, _RESULT_LABEL[result.outcome])
    return result


def _post(client: WebClient, **kwargs: Any) -> SendResult:
    try:
        # The client retries failures to connect only (core.services.make_web_client).
        response = client.chat_postMessage(**kwargs)
    except URLError as exc:
        # urllib wraps failures while connecting or sending the request: Slack never got it whole.
        return SendResult("transient", error=classify_error(exc)[1])
    except (TimeoutError, OSError, http.client.HTTPException, json.JSONDecodeError) as exc:
        # The request went out but no usable answer came back (read timeout, connection dropped,
        # garbled reply): Slack may have posted it. Retrying blindly could post it twice.
        return SendResult("unknown", error=type(exc).__name__)
    except (SlackApiError, SlackRequestError) as exc:
        outcome, error = classify_error(exc)
        return SendResult(outcome, error=error,
                          retry_after=retry_after_of(exc) if isinstance(exc, SlackApiError) else None)
    return SendResult("ok", channel=response.get("channel"), ts=response.get("ts"))


def find_sent(client: WebClient, user_id: str, event_type: str, key: str, value: int,
              oldest: float) -> tuple[str, str] | None:
    """Look in the rep's DM for a message we already posted (by its metadata), after a crash.

    Returns (channel, ts) if found. Errors count as "not found", which makes the caller wait for
    the next pass rather than risk a duplicate.
    """
    try:
        channel = client.conversations_open(users=user_id)["channel"]["id"]
        cursor = None
        for _ in range(5):  # at most 5 pages: the message was posted minutes ago
            page = client.conversations_history(channel=channel, include_all_metadata=True,
                                                oldest=f"{oldest:.6f}", limit=100, cursor=cursor)
            messages: list[dict[str, Any]] = page.get("messages") or []
            for message in messages:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == event_type and str(payload.get(key)) == str(value):
                    return channel, str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
    except (SlackApiError, SlackRequestError, URLError, TimeoutError, OSError) as exc:
        log.warning("could not look for an earlier send to %s: %s", user_id, classify_error(exc)[1])
        raise LookupError(user_id) from exc
    return None
