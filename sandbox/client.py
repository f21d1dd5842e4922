"""`SlackClientSim`: sends the bot requests exactly as Slack does (signed HTTP, or Socket Mode).

Slash commands are form bodies, interactions are `payload=<json>` form bodies, events are JSON.
Every HTTP request is signed with v0 HMAC-SHA256 over `v0:<timestamp>:<body>`.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sandbox import checks, payloads
from sandbox.client_shapes import MessageShapes, Response
from sandbox.models import APP_ID, Ephemeral, Message, Team

if TYPE_CHECKING:
    from sandbox.server import Sandbox
    from sandbox.views import ViewStore
    from sandbox.workspace import Workspace

Transport = Callable[[bytes, dict[str, str]], tuple[int, dict[str, str], bytes]]
FORM = "application/x-www-form-urlencoded"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def http_transport(url: str, timeout: float = 10.0) -> Transport:
    """POST to the bot's HTTP endpoint; any HTTP status comes back as a result, not an exception."""

    def send(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - local test URL
                return resp.status, dict(resp.headers.items()), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers.items()), err.read()

    return send


def bolt_transport(app: Any) -> Transport:
    """Drive a slack_bolt `App` in-process (no HTTP server): `sb.client(bolt_transport(app), secret)`."""
    from slack_bolt.request import BoltRequest

    def send(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        resp = app.dispatch(BoltRequest(body=body.decode("utf-8"), headers={k: [v] for k, v in headers.items()}))
        out_headers = {k: (v[0] if isinstance(v, list | tuple) and v else str(v)) for k, v in resp.headers.items()}
        return resp.status, out_headers, (resp.body or "").encode("utf-8")

    return send


class SlackClientSim(MessageShapes):
    def __init__(self, sandbox: Sandbox, target: str | Transport | None, signing_secret: str, *,
                 socket: bool = False, timestamp_offset: int = 0, sign_with: str | None = None,
                 timeout: float = 10.0, ack_deadline: float | None = None, team: str | None = None) -> None:
        if target is None and not socket:
            raise ValueError("give the bot URL or a transport, or socket=True")
        self.sandbox = sandbox
        self.target = target
        self.signing_secret = signing_secret
        self.socket = socket
        self.timestamp_offset = timestamp_offset
        self.sign_with = sign_with
        self.timeout = timeout
        self.ack_deadline = ack_deadline
        self._transport: Transport | None = None
        if isinstance(target, str):
            self._transport = http_transport(target, timeout)
        elif target is not None:
            self._transport = target
        self.sent_events: dict[str, dict[str, Any]] = {}
        self.team_id = team  # None: the default workspace
        self.sandbox.ws(team)  # KeyError now for an unknown workspace

    # ---- the workspace the requests come from --------------------------------------------------
    @property
    def ws(self) -> Workspace:
        return self.sandbox.ws(self.team_id)

    @property
    def store(self) -> ViewStore:
        return self.sandbox.views_store(self.team_id)

    @property
    def team(self) -> Team:
        return self.ws.team

    @property
    def org_wide(self) -> bool:
        """The app is installed org-wide in this workspace's Grid org (payloads say so)."""
        org = self.sandbox.directory.orgs.get(self.team.enterprise_id or "")
        return bool(org and org.org_wide)

    def with_signing(self, *, secret: str | None = None, timestamp_offset: int | None = None) -> SlackClientSim:
        """A copy that signs with another secret (a forgery) and/or a shifted timestamp (-301: stale)."""
        other = copy.copy(self)
        other.sign_with = secret if secret is not None else self.sign_with
        other.timestamp_offset = timestamp_offset if timestamp_offset is not None else self.timestamp_offset
        return other

    # ---- transport ----------------------------------------------------------------------------
    def signed_headers(self, body: bytes, content_type: str) -> dict[str, str]:
        timestamp = str(int(time.time()) + self.timestamp_offset)
        return {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature(self.sign_with or self.signing_secret, timestamp, body),
        }

    def post_raw(self, body: bytes, headers: Mapping[str, str]) -> Response:
        """Send exactly these bytes and headers (for forged or malformed requests)."""
        if self._transport is None:
            raise RuntimeError("post_raw needs an HTTP URL or a transport")
        status, out_headers, out_body = self._transport(body, dict(headers))
        return Response(status, out_headers, out_body)

    def _deliver(self, kind: str, body: bytes, content_type: str, payload: dict[str, Any],
                 retry_num: int | None = None, retry_reason: str | None = None) -> Response:
        started = time.monotonic()
        if self.socket:
            resp = self._deliver_socket(kind, payload, retry_num, retry_reason)
        else:
            headers = self.signed_headers(body, content_type)
            if retry_num is not None:
                headers["X-Slack-Retry-Num"] = str(retry_num)
                headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
            resp = self.post_raw(body, headers)
        took = time.monotonic() - started
        if self.ack_deadline is not None and took > self.ack_deadline:
            self.sandbox.recorder.violate([checks.Violation(
                kind, "slow_ack", f"acknowledged after {took:.2f} s (Slack waits {self.ack_deadline} s)")])
        return resp

    def _deliver_socket(self, kind: str, payload: dict[str, Any], retry_num: int | None,
                        retry_reason: str | None) -> Response:
        envelope_type = {"slash": "slash_commands", "interactive": "interactive", "event": "events_api"}[kind]
        ack = self.sandbox.socket_server.send(envelope_type, payload, accepts_response_payload=kind != "event",
                                              retry_attempt=retry_num or 0, retry_reason=retry_reason or "",
                                              timeout=self.timeout)
        if ack is None:
            return Response(0)  # no ack within the timeout
        reply = ack.get("payload")
        return Response(200, {}, json.dumps(reply).encode() if reply else b"")

    # ---- slash commands -----------------------------------------------------------------------
    def slash(self, text: str, user: str, command: str = "/checkin", channel: str | None = None,
              escape: bool = True) -> Response:
        """Run a slash command (in the user's DM with the app unless `channel` is given)."""
        ws = self.ws
        with ws.lock:
            who = ws.user(user)
            channel_id = channel or ws.im_for(user)
            name = "directmessage" if channel_id.startswith("D") else ws.channels[channel_id].name
            if escape:
                text = payloads.escape_user_text(text, ws.users, with_names=True)
            target = ws.new_response_target(channel_id, user)
            # Slack shows the ack's reply before anything the app sends later through response_url,
            # even when (as in tests) the app finishes its listener before it answers the request.
            ack_ts = ws.next_ts()
        form = payloads.slash_form(who, command, text, channel_id, name, self._response_url(target.token),
                                   self.store.issue_trigger(user), self.team, self.org_wide)
        resp = self._deliver("slash", urlencode(form).encode(), FORM, form)
        if resp.status == 200 and resp.body.strip():
            try:
                parsed = json.loads(resp.body)
            except ValueError:
                parsed = {"text": resp.text}
            resp.reply = parsed if isinstance(parsed, dict) else {"text": resp.text}
            self._show_reply(resp.reply, channel_id, user, ack_ts)
        return resp

    def _response_url(self, token: str) -> str:
        return f"{self.sandbox.base_url}/response/{token}"

    def _show_reply(self, reply: dict[str, Any], channel: str, user: str, ts: str | None = None) -> None:
        found = checks.check_message("slash_command_ack", reply)
        self.sandbox.recorder.violate(found)
        ws = self.ws
        blocks = reply.get("blocks") if isinstance(reply.get("blocks"), list) else None
        if reply.get("response_type") == "in_channel":
            ws.post(channel, self.ws.bot_user_id, str(reply.get("text") or ""), blocks)
        else:
            ws.add_ephemeral(channel, user, str(reply.get("text") or ""), blocks, "ack", ts=ts)

    # ---- interactivity ------------------------------------------------------------------------
    def _find_source(self, action_id: str, user: str, block_id: str | None) -> Message | Ephemeral | dict[str, Any]:
        # Open modals (top first), then DMs and ephemerals (newest first), then the Home tab.
        views = self.sandbox.views_of(user, team=self.team_id)
        for view in reversed([v for v in views if v["type"] == "modal"]):
            if payloads.find_element(view.get("blocks"), action_id, block_id):
                return view
        with self.ws.lock:
            candidates: list[Message | Ephemeral] = [*self.sandbox.messages(user, team=self.team_id),
                                                     *self.sandbox.ephemerals_to(user, team=self.team_id)]
        for item in sorted(candidates, key=lambda m: float(m.ts), reverse=True):
            if payloads.find_element(item.blocks, action_id, block_id):
                return item
        for view in views:
            if view["type"] == "home" and payloads.find_element(view.get("blocks"), action_id, block_id):
                return view
        raise LookupError(f"no element with action_id {action_id!r} in {user}'s views, DMs or ephemerals")

    def click(self, action_id: str, user: str, value: Any = None, message: Message | Ephemeral | dict[str, Any] |
              None = None, view: dict[str, Any] | str | None = None, block_id: str | None = None,
              values: Mapping[str, Any] | None = None) -> Response:
        """Click a button (or pick `value` in a select) in a message, ephemeral or view.

        Without `message`/`view`, the newest of the user's views, DMs and ephemerals holding the
        action_id is used. `values` fills a modal's inputs (as for `submit_view`) before the click.
        """
        ws, store = self.ws, self.store
        who = ws.user(user)
        source: Message | Ephemeral | dict[str, Any]
        if view is not None:
            found_view = store.get(view if isinstance(view, str) else view["id"])
            if found_view is None:
                if isinstance(view, str):
                    raise LookupError(f"no view {view!r}")
                found_view = copy.deepcopy(view)
            source = found_view
        elif message is not None:
            source = message
        else:
            source = self._find_source(action_id, user, block_id)
        payload: dict[str, Any] = {
            "type": "block_actions", "user": payloads.user_ref(who, self.team), "api_app_id": APP_ID,
            "token": payloads.VERIFICATION_TOKEN, "team": payloads.team_ref(self.team),
            "enterprise": payloads.enterprise_ref(self.team), "is_enterprise_install": self.org_wide,
            "trigger_id": store.issue_trigger(user),
        }
        if isinstance(source, Message | Ephemeral) or "ts" in source:
            blocks = self._message_source(payload, source, user)
        else:
            blocks = source.get("blocks")
            if values:
                # What the user typed stays in the view (a later views.update keeps it).
                source["state"] = {"values": payloads.state_values(source, values)}
                store.set_state(str(source.get("id")), source["state"]["values"])
            payload["container"] = {"type": "view", "view_id": source.get("id")}
            payload["view"] = source
        found = payloads.find_element(blocks, action_id, block_id)
        element, found_block = found if found else ({"type": "button", "action_id": action_id}, block_id or "")
        payload["actions"] = [payloads.action_of(element, found_block, value)]
        form = {"payload": json.dumps(payload)}
        return self._deliver("interactive", urlencode(form).encode(), FORM, payload)

    def _message_source(self, payload: dict[str, Any], source: Message | Ephemeral | dict[str, Any],
                        user: str) -> Any:
        ws = self.ws
        ephemeral = isinstance(source, Ephemeral)
        if isinstance(source, Message | Ephemeral):
            channel, ts = source.channel, source.ts
        else:
            channel, ts = str(source.get("channel") or ws.im_for(user)), str(source["ts"])
        current = ws.find(channel, ts)
        container: dict[str, Any] = {"type": "message", "message_ts": ts, "channel_id": channel,
                                     "is_ephemeral": ephemeral}
        payload["channel"] = {"id": channel, "name": "directmessage" if channel.startswith("D") else channel}
        if ephemeral:
            target = ws.new_response_target(channel, user, ephemeral_ts=ts)
            blocks: Any = source.blocks if isinstance(source, Ephemeral) else None
        else:
            if current is not None:
                api_message = current.to_api()
            else:
                api_message = source.to_api() if isinstance(source, Message | Ephemeral) else dict(source)
            if current is not None and current.thread_ts:
                container["thread_ts"] = current.thread_ts
            payload["message"] = api_message
            target = ws.new_response_target(channel, user, message_ts=ts)
            blocks = api_message.get("blocks")
        payload["container"] = container
        payload["state"] = {"values": {}}
        payload["response_url"] = self._response_url(target.token)
        return blocks

    def submit_view(self, view: dict[str, Any] | str, values: Mapping[str, Any], user: str) -> Response:
        """Submit a modal with `values` (by action_id or block_id); applies the bot's response_action."""
        store = self.store
        view_id = view if isinstance(view, str) else str(view["id"])
        current = store.get(view_id) or (copy.deepcopy(view) if isinstance(view, dict) else None)
        if current is None:
            raise LookupError(f"no view {view_id}")
        state = payloads.state_values(current, values)
        store.set_state(view_id, state)
        current["state"] = {"values": state}
        payload = {
            "type": "view_submission", "team": payloads.team_ref(self.team),
            "user": payloads.user_ref(self.ws.user(user), self.team), "api_app_id": APP_ID,
            "token": payloads.VERIFICATION_TOKEN, "trigger_id": store.issue_trigger(user), "view": current,
            "response_urls": [], "is_enterprise_install": self.org_wide,
            "enterprise": payloads.enterprise_ref(self.team),
        }
        resp = self._deliver("interactive", urlencode({"payload": json.dumps(payload)}).encode(), FORM, payload)
        if resp.status == 200:
            self._apply_response_action(resp, current, user)
        return resp

    def _apply_response_action(self, resp: Response, view: dict[str, Any], user: str) -> None:
        store, recorder = self.store, self.sandbox.recorder
        try:
            reply = json.loads(resp.body) if resp.body.strip() else {}
        except ValueError:
            reply = {}
        resp.reply = reply if isinstance(reply, dict) and reply else None
        action = reply.get("response_action") if isinstance(reply, dict) else None
        if action in ("update", "push"):
            problems = checks.check_view(reply.get("view"))
            recorder.violate([checks.Violation("view_submission", checks.BLOCK_KIT, p) for p in problems])
            if problems:
                return
            if action == "update":
                store.update(view["id"], None, reply["view"])
            else:
                store.push_direct(user, reply["view"])
        elif action == "errors":
            inputs = {b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"}
            bad = set(reply.get("errors") or {}) - inputs
            if bad:
                recorder.violate([checks.Violation("view_submission", "response_action",
                                                   f"errors for unknown input block_ids {sorted(bad)}")])
        elif action == "clear":
            store.close(user, clear=True)
        else:
            store.close(user, view["id"])

    # ---- events -------------------------------------------------------------------------------
    def send_event(self, event: dict[str, Any], event_id: str | None = None, retry_num: int | None = None,
                   retry_reason: str | None = None) -> Response:
        """Deliver an Events API event_callback; an `event_id` already sent resends that same body."""
        if event_id is not None and event_id in self.sent_events:
            envelope = self.sent_events[event_id]
        else:
            envelope = payloads.event_envelope(event, event_id, self.team, self.org_wide)
            self.sent_events[envelope["event_id"]] = envelope
        return self._deliver("event", json.dumps(envelope).encode(), "application/json", envelope,
                             retry_num, retry_reason)

    def resend(self, event_id: str, retry_num: int = 1, retry_reason: str = "http_timeout") -> Response:
        """Slack's retry of an event it thinks was not acknowledged."""
        return self.send_event({}, event_id, retry_num, retry_reason)

    def dm(self, user: str, text: str, thread_ts: str | None = None, event_id: str | None = None,
           retry_num: int | None = None, retry_reason: str | None = None, escape: bool = True) -> Response:
        """The user writes to the bot in their IM (stored there, then a `message.im` event)."""
        if event_id is not None and event_id in self.sent_events:
            return self.send_event({}, event_id, retry_num, retry_reason)
        ws = self.ws
        with ws.lock:
            channel = ws.im_for(user)
            if escape:
                text = payloads.escape_user_text(text, ws.users, with_names=False)
            msg = ws.post(channel, user, text, thread_ts=thread_ts, by_bot=False, client_msg_id=str(uuid.uuid4()))
        event: dict[str, Any] = {
            "type": "message", "channel": channel, "user": user, "text": text, "ts": msg.ts,
            "event_ts": msg.ts, "channel_type": "im", "client_msg_id": msg.client_msg_id,
            "team": self.team.id, "blocks": payloads.rich_text(text),
        }
        if msg.thread_ts:
            event["thread_ts"] = msg.thread_ts
            parent = ws.find(channel, msg.thread_ts)
            event["parent_user_id"] = parent.user if parent is not None else self.ws.bot_user_id
        return self.send_event(event, event_id, retry_num, retry_reason)

    def open_home(self, user: str, tab: str = "home") -> Response:
        """The user opens the app's Home (or Messages) tab: an `app_home_opened` event."""
        event: dict[str, Any] = {"type": "app_home_opened", "user": user, "tab": tab,
                                 "channel": self.ws.im_for(user), "event_ts": f"{time.time():.6f}"}
        home = self.sandbox.home_of(user, team=self.team_id)
        if home is not None and tab == "home":
            event["view"] = home
        return self.send_event(event)


__all__ = ["Response", "SlackClientSim", "Transport", "bolt_transport", "http_transport", "signature"]
