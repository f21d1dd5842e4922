"""Posting to Slack from the dispatcher, telling permanent errors from transient ones.

The WebClient already retries 429 (honouring Retry-After), 5xx and connection resets; what still
fails here after those retries is classified so the caller can park, retry later, or stop.
A post whose answer never came (a read timeout, a dropped connection) is "unknown": Slack may
well have posted it, so the caller must look for it before posting again.

The outbox worker posts with `post_async` (slack_sdk's AsyncWebClient on one kept-alive aiohttp
session, handlers.transport); listeners and look-ups use the sync WebClient. Both end in the same
`SendResult` and the same `classify_error`.
"""

from __future__ import annotations

import http.client
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.error import URLError

import aiohttp
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

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

# "unsent": never handed to Slack (the process was stopping): given back at once, no try counted.
Outcome = Literal["ok", "permanent", "transient", "fatal", "unknown", "unsent"]


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
                                     "transient": "deferred", "unknown": "deferred", "unsent": "deferred"}


def message_kind(kwargs: dict[str, Any]) -> str | None:
    """The contract metadata event type of a message about to be posted (CONTRACT §4)."""
    meta = kwargs.get("metadata")
    kind = meta.get("event_type") if isinstance(meta, dict) else getattr(meta, "event_type", None)
    return str(kind) if kind else None


def _log_fields(kwargs: dict[str, Any]) -> dict[str, Any]:
    meta = kwargs.get("metadata")
    payload = meta.get("event_payload") if isinstance(meta, dict) else getattr(meta, "event_payload", None)
    return {"kind": message_kind(kwargs), "outbox_id": (payload or {}).get("outbox_id")}


def post(client: WebClient, **kwargs: Any) -> SendResult:
    fields = _log_fields(kwargs)
    with logcontext.bind(**fields):
        result = _post(client, **kwargs)
    metrics.record_message(fields["kind"], _RESULT_LABEL[result.outcome])
    return result


# An update of a message that is no longer there (or no longer ours to change) has nothing left to
# do: it counts as done rather than as an unreachable recipient, who would be parked.
GONE_MESSAGE_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


async def post_async(client: AsyncWebClient, **kwargs: Any) -> SendResult:
    """`post` on the outbox worker's kept-alive session: the same outcomes, the same error policy."""
    fields = _log_fields(kwargs)
    with logcontext.bind(**fields):  # each task has its own context, so fields don't leak across posts
        result = await _post_async(client, **kwargs)
    metrics.record_message(fields["kind"], _RESULT_LABEL[result.outcome])
    return result


async def _post_async(client: AsyncWebClient, **kwargs: Any) -> SendResult:
    try:
        # The client retries failures to connect only (handlers.transport.async_client).
        response = await client.chat_postMessage(**kwargs)
    except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
        # No connection was made: Slack never got the request.
        return SendResult("transient", error=type(exc).__name__)
    except (SlackApiError, SlackRequestError) as exc:
        outcome, error = classify_error(exc)
        return SendResult(outcome, error=error,
                          retry_after=retry_after_of(exc) if isinstance(exc, SlackApiError) else None)
    except (TimeoutError, OSError, aiohttp.ClientError, json.JSONDecodeError) as exc:
        # Sent, but no usable answer (read timeout, connection dropped, garbled reply): Slack may
        # have posted it, so it is looked for before it is posted again.
        return SendResult("unknown", error=type(exc).__name__)
    return SendResult("ok", channel=response.get("channel"), ts=response.get("ts"))


def _post(client: WebClient, **kwargs: Any) -> SendResult:
    # "op": "update" turns the message into chat.update of `channel`/`ts` (a message already posted).
    op = kwargs.pop("op", "post")
    try:
        # The client retries failures to connect only (core.services.make_web_client).
        response = client.chat_update(**kwargs) if op == "update" else client.chat_postMessage(**kwargs)
    except URLError as exc:
        # urllib wraps failures while connecting or sending the request: Slack never got it whole.
        return SendResult("transient", error=classify_error(exc)[1])
    except (TimeoutError, OSError, http.client.HTTPException, json.JSONDecodeError) as exc:
        # The request went out but no usable answer came back (read timeout, connection dropped,
        # garbled reply): Slack may have posted it. Retrying blindly could post it twice.
        return SendResult("unknown", error=type(exc).__name__)
    except (SlackApiError, SlackRequestError) as exc:
        outcome, error = classify_error(exc)
        if op == "update" and error in GONE_MESSAGE_ERRORS:
            log.info("the message to update is gone (%s); nothing to change", error)
            return SendResult("ok", channel=kwargs.get("channel"), ts=kwargs.get("ts"))
        return SendResult(outcome, error=error,
                          retry_after=retry_after_of(exc) if isinstance(exc, SlackApiError) else None)
    return SendResult("ok", channel=response.get("channel"), ts=response.get("ts"))


# An edit or deletion whose target is already gone has nothing left to take out: done.
GONE = frozenset({"message_not_found", "channel_not_found", "thread_not_found"})


def update(client: WebClient, channel: str, ts: str, **kwargs: Any) -> SendResult:
    """chat.update of a message the bot posted, under the same error policy as a post."""
    return _edit(client.chat_update, channel=channel, ts=ts, **kwargs)


def delete(client: WebClient, channel: str, ts: str, **_: Any) -> SendResult:
    """chat.delete of a message the bot posted."""
    return _edit(client.chat_delete, channel=channel, ts=ts)


def _edit(call: Callable[..., Any], **kwargs: Any) -> SendResult:
    try:
        response = call(**kwargs)
    except (URLError, TimeoutError, OSError, http.client.HTTPException, json.JSONDecodeError) as exc:
        # Unlike a post, an edit is safe to repeat: a lost reply is simply tried again.
        return SendResult("transient", error=type(exc).__name__)
    except (SlackApiError, SlackRequestError) as exc:
        outcome, error = classify_error(exc)
        if error in GONE:
            return SendResult("ok", channel=kwargs.get("channel"), ts=kwargs.get("ts"), error=error)
        return SendResult(outcome, error=error)
    return SendResult("ok", channel=response.get("channel") or kwargs.get("channel"),
                      ts=response.get("ts") or kwargs.get("ts"))


# How the worker carries out a rendered message: by its "op" (a plain post when it has none).
OPS: dict[str, Callable[..., SendResult]] = {"post": post, "update": update, "delete": delete}


def send(client: WebClient, message: dict[str, Any]) -> SendResult:
    """Carry out one rendered outbox message: post it, or edit or delete the message it names."""
    args = dict(message)
    op = args.pop("op", "post")
    if op == "upload":  # it needs the whole message: the file, and what to post if Slack refuses it
        return upload(client, message)
    return OPS[op](client, **args)


# A workspace that won't take this file (uploads turned off, too large, no `files:write` yet): the
# message goes out without it, saying the same in words. Not the token's fault, so not fatal.
UPLOAD_REFUSED = frozenset({"file_uploads_disabled", "file_upload_size_restricted", "missing_scope",
                            "no_permission", "not_allowed_token_type", "file_uploads_except_images_disabled"})


def upload(client: WebClient, message: dict[str, Any]) -> SendResult:
    """Upload `message["file"]` privately, then post the message showing it, else its `fallback`.

    The file is uploaded without a channel, so on its own nobody sees it; it appears through the
    post, which carries the metadata like every other. A lost reply is then looked for as usual,
    and an upload repeated after a failure leaves only a private copy nobody is shown. A picture
    is shown as an image block (with its alt text); any other file as a link in the message.
    """
    file: dict[str, Any] = message["file"]
    base = {k: v for k, v in message.items() if k not in ("op", "file", "fallback")}
    fallback = {**base, **message.get("fallback", {})}
    meta = message.get("metadata")
    payload = meta.get("event_payload") if isinstance(meta, dict) else None
    with logcontext.bind(kind=message_kind(message), outbox_id=(payload or {}).get("outbox_id")):
        try:
            response = client.files_upload_v2(content=file["content"], filename=file["filename"],
                                              title=file.get("title"), alt_txt=file.get("alt_txt"))
            uploaded: dict[str, Any] = response.get("file") or {}
        except (SlackApiError, SlackRequestError) as exc:
            outcome, error = classify_error(exc)
            if error not in UPLOAD_REFUSED:
                result = SendResult(outcome, error=error)
                metrics.record_message(message_kind(message), _RESULT_LABEL[result.outcome])
                return result
            log.warning("Slack refused the upload (%s); sending the message without the file", error)
            return post(client, **fallback)
        except (URLError, TimeoutError, OSError, http.client.HTTPException, json.JSONDecodeError) as exc:
            # Only a private upload can have happened: trying again later shows nothing twice.
            metrics.record_message(message_kind(message), "deferred")
            return SendResult("transient", error=type(exc).__name__)
    shown = _showing(base, file, uploaded)
    result = post(client, **shown)
    if result.error == "invalid_blocks":
        # Slack wouldn't show the file in the message (not processed yet, say): say it in words.
        return post(client, **fallback)
    return result


def _showing(message: dict[str, Any], file: dict[str, Any], uploaded: dict[str, Any]) -> dict[str, Any]:
    blocks = list(message.get("blocks") or [])
    if file.get("image"):
        block: dict[str, Any] = {"type": "image", "slack_file": {"id": uploaded.get("id")},
                                 "alt_text": str(file.get("alt_txt") or file["filename"])[:2000]}
        if file.get("title"):
            block["title"] = {"type": "plain_text", "text": str(file["title"])[:2000]}
        blocks.insert(int(file.get("at", len(blocks))), block)
    else:
        # An unlabelled link: the bot writes no labelled links (only people's text has them).
        text = f":page_facing_up: `{file['filename']}`: <{uploaded.get('permalink')}>"
        blocks.insert(int(file.get("at", len(blocks))), {"type": "section", "text": {"type": "mrkdwn", "text": text}})
    return {**message, "blocks": blocks}
