"""Vetting of HTTP requests before Bolt sees them: size, signature, shape, workspace and replays.

Everything here runs before any listener, and a refusal is a 4xx: a malformed or hostile request
never reaches code that could raise (a 500), and nothing from an unauthenticated body is logged,
only its size and the reason, at a bounded rate.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from slack_bolt import App, BoltContext, BoltResponse
from sqlalchemy.exc import SQLAlchemyError

from core.services import Services
from handlers.context import services_of
from storage.requests import first_use, purge_expired

log = logging.getLogger(__name__)

# Slack documents no maximum, but its bodies are small: the largest interaction we can cause is a
# click on a 50-block message, which Slack sends back whole (50 x 3,000 characters, form-encoded:
# well under 512 KiB). Bodies above this are refused before they are read.
MAX_BODY_BYTES = 512 * 1024
# Slack's own rule: a signature older (or newer) than five minutes is not accepted.
SIGNATURE_WINDOW_SECONDS = 300
FORM = "application/x-www-form-urlencoded"
PURGE_EVERY = 200  # replay rows are purged once every this many recorded requests


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str  # a fixed phrase, safe to log: never anything taken from the request

    def response(self) -> tuple[str, bytes]:
        phrase = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 405: "Method Not Allowed",
                  411: "Length Required", 413: "Payload Too Large", 415: "Unsupported Media Type"}
        return f"{self.status} {phrase.get(self.status, 'Bad Request')}", self.reason.encode()


@dataclass(frozen=True)
class Accepted:
    """A signed, well-formed request from our workspace; `replay` means it was applied before."""

    payload: dict[str, Any]
    replay: bool = False


class RateLimitedLog:
    """At most `per_minute` lines a minute; the rest are counted and reported in the next line."""

    def __init__(self, logger: logging.Logger, per_minute: int = 10,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger, self.per_minute, self.clock = logger, per_minute, clock
        self.lock = threading.Lock()
        self.window_start = clock()
        self.used = 0
        self.suppressed = 0

    def warning(self, message: str, *args: object) -> None:
        with self.lock:
            now = self.clock()
            if now - self.window_start >= 60:
                self.window_start, self.used = now, 0
            if self.used >= self.per_minute:
                self.suppressed += 1
                return
            self.used += 1
            suppressed, self.suppressed = self.suppressed, 0
        if suppressed:
            message += " (%d similar lines suppressed)"
            args = (*args, suppressed)
        self.logger.warning(message, *args)


def parse_body(body: bytes, content_type: str) -> dict[str, Any] | str:
    """The request as Bolt will read it, or a reason why Slack would never send it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "body is not UTF-8"
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json":
        try:
            parsed = json.loads(text)
        except ValueError:
            return "body is not JSON"
        if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
            return "JSON body is not a Slack event"
        if parsed["type"] == "url_verification":
            return parsed if isinstance(parsed.get("challenge"), str) else "url_verification without challenge"
        if parsed["type"] == "event_callback" and not isinstance(parsed.get("event"), dict):
            return "event_callback without an event"
        return parsed
    if media != FORM:
        return "unsupported content type"
    try:
        form = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (ValueError, UnicodeDecodeError):
        return "malformed form body"
    fields = {k: v[0] for k, v in form.items()}
    if "payload" in fields:
        try:
            payload = json.loads(fields["payload"])
        except ValueError:
            return "payload is not JSON"
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            return "payload is not an interaction"
        if not isinstance(payload.get("user"), dict) or not isinstance(payload["user"].get("id"), str):
            return "interaction without a user"
        return payload
    if fields.get("ssl_check") == "1":
        return fields
    if "command" in fields:
        for name in ("user_id", "team_id", "command"):
            if not fields.get(name):
                return f"slash command without {name}"
        return fields
    return "form body is neither a command nor an interaction"


def workspace_of(payload: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(team_id, enterprise_id) a request speaks for, wherever its kind keeps them."""
    team = payload.get("team")
    enterprise = payload.get("enterprise")
    team_id = payload.get("team_id") or (team.get("id") if isinstance(team, dict) else None)
    user = payload.get("user")
    if not team_id and isinstance(user, dict):
        team_id = user.get("team_id")
    enterprise_id = payload.get("enterprise_id") or (enterprise.get("id") if isinstance(enterprise, dict) else None)
    return (str(team_id) if team_id else None), (str(enterprise_id) if enterprise_id else None)


def foreign(payload: Mapping[str, Any], team_id: str, enterprise_id: str | None) -> bool:
    """True unless the request is from our one workspace (and its Grid org, if any)."""
    if payload.get("type") in ("url_verification",) or payload.get("ssl_check") == "1":
        return False  # Slack's own set-up checks name no workspace
    theirs, their_org = workspace_of(payload)
    if their_org and their_org != enterprise_id:
        return True
    return theirs != team_id


# Slack's word that the app left: always heard, so a retry after we marked the workspace gone is
# acknowledged rather than refused (handling it twice changes nothing).
FAREWELLS = ("app_uninstalled", "tokens_revoked")


def foreign_to(payload: Mapping[str, Any], services: Services) -> bool:
    """True unless the request is from a workspace we serve: ours, or (OAuth) an installed one."""
    if payload.get("type") in ("url_verification",) or payload.get("ssl_check") == "1":
        return False
    event = payload.get("event")
    if payload.get("type") == "event_callback" and isinstance(event, dict) and event.get("type") in FAREWELLS:
        return not services.multi_workspace and foreign(payload, services.team_id, services.enterprise_id)
    theirs, their_org = workspace_of(payload)
    return not services.knows(theirs, their_org)


class RequestVetter:
    def __init__(self, services: Services, max_body: int = MAX_BODY_BYTES,
                 clock: Callable[[], float] = time.time) -> None:
        self.services = services
        self.secret = (services.settings.signing_secret or "").encode()
        self.max_body = max_body
        self.clock = clock
        self.rejections = RateLimitedLog(log)
        self._recorded = 0
        self._lock = threading.Lock()

    def refuse(self, status: int, reason: str, size: int) -> Refusal:
        self.rejections.warning("refused a request (%d bytes): %s", size, reason)
        return Refusal(status, reason)

    def vet(self, headers: Mapping[str, str], body: bytes, content_type: str) -> Refusal | Accepted:
        """`headers` with lower-case names."""
        size = len(body)
        if size > self.max_body:
            return self.refuse(413, "body too large", size)
        timestamp = headers.get("x-slack-request-timestamp", "")
        signature = headers.get("x-slack-signature", "")
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            return self.refuse(401, "missing or malformed timestamp", size)
        now = self.clock()
        if abs(now - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
            return self.refuse(401, "stale timestamp", size)
        expected = "v0=" + hmac.new(self.secret, b"v0:" + timestamp.encode() + b":" + body,
                                    hashlib.sha256).hexdigest()
        if not self.secret or not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return self.refuse(401, "bad signature", size)
        parsed = parse_body(body, content_type)
        if isinstance(parsed, str):
            return self.refuse(400, parsed, size)
        try:
            outsider = foreign_to(parsed, self.services)
        except SQLAlchemyError as exc:
            # OAuth installs are looked up in the database; without it nothing can be read or
            # written for anyone, and Bolt's own install lookup answers the request.
            log.warning("could not look up the request's workspace: %s", type(exc).__name__)
            outsider = False
        if outsider:
            return self.refuse(403, "request from another workspace", size)
        is_command_or_click = "command" in parsed or parsed.get("type") in (
            "block_actions", "view_submission", "view_closed", "shortcut", "message_action")
        if is_command_or_click and not self._first_use(signature, int(timestamp)):
            log.info("ignored a replayed %s", "slash command" if "command" in parsed else parsed["type"])
            return Accepted(parsed, replay=True)
        return Accepted(parsed)

    def _first_use(self, signature: str, timestamp: int) -> bool:
        digest = hashlib.sha256(signature.encode()).hexdigest()
        with self._lock:
            self._recorded += 1
            purge = self._recorded % PURGE_EVERY == 0
        try:
            with self.services.sessions.begin() as session:
                if purge:
                    purge_expired(session, int(self.clock()))
                return first_use(session, digest, timestamp + SIGNATURE_WINDOW_SECONDS)
        except SQLAlchemyError as exc:
            # Without the database the command can't be applied at all, so letting it through can't
            # apply it twice; refusing would hide the real problem from the person.
            log.warning("could not check for a replayed request: %s", type(exc).__name__)
            return True


def only_our_workspace(body: dict[str, Any], context: BoltContext,
                       next: Callable[[], BoltResponse]) -> BoltResponse | None:
    """The workspace check again as Bolt middleware, so Socket Mode requests get it too."""
    services = services_of(context)
    if body and foreign_to(body, services):
        log.info("refused a request from another workspace")
        return BoltResponse(status=403, body="")
    return next()


def register(app: App) -> None:
    app.middleware(only_our_workspace)
