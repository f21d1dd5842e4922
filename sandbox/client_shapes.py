"""Messages in the shapes real Slack sends besides a plain DM (as in ../shared/slack-payloads):
file_share, thread_broadcast, message_changed, message_deleted, other bots' messages, and the
workspace events user_change, tokens_revoked and app_uninstalled. Mixed into `SlackClientSim`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox import payloads
from sandbox.models import Message, Team, UploadedFile, visible_text

if TYPE_CHECKING:
    from sandbox.workspace import Workspace


@dataclass
class Response:
    """The bot's answer. `reply` is the parsed immediate reply (slash command / view_submission ack)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    reply: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else None

    @property
    def reply_text(self) -> str:
        """The immediate reply's text and block texts ("" when the bot only acknowledged)."""
        if not self.reply:
            return ""
        return visible_text(str(self.reply.get("text") or ""), self.reply.get("blocks"))



class MessageShapes:
    """Needs the client's workspace, team and `send_event`."""

    @property
    def ws(self) -> Workspace:
        raise NotImplementedError

    @property
    def team(self) -> Team:
        raise NotImplementedError

    def send_event(self, event: dict[str, Any], event_id: str | None = None, retry_num: int | None = None,
                   retry_reason: str | None = None) -> Response:
        raise NotImplementedError

    # ---- other message shapes (as in ../shared/slack-payloads) ---------------------------------
    def _user_message_event(self, msg: Message, channel: str, subtype: str | None) -> dict[str, Any]:
        event: dict[str, Any] = {"type": "message"}
        if subtype:
            event["subtype"] = subtype
        event.update({"channel": channel, "user": msg.user, "text": msg.text, "ts": msg.ts, "event_ts": msg.ts,
                      "channel_type": "im", "client_msg_id": msg.client_msg_id, "team": self.team.id,
                      "blocks": payloads.rich_text(msg.text)})
        if msg.thread_ts:
            event["thread_ts"] = msg.thread_ts
            parent = self.ws.find(channel, msg.thread_ts)
            event["parent_user_id"] = parent.user if parent is not None else self.ws.bot_user_id
        return event

    def share_file(self, user: str, text: str = "", filename: str = "notes.pdf", content: bytes = b"%PDF-1.4",
                   mimetype: str = "application/pdf", thread_ts: str | None = None) -> Response:
        """The user sends the bot a file (with an optional comment): a `file_share` message."""
        ws = self.ws
        with ws.lock:
            channel = ws.im_for(user)
            text = payloads.escape_user_text(text, ws.users, with_names=False)
            file_id = ws.new_id("F")
            ws.files[file_id] = UploadedFile(file_id, filename, len(content), filename, content, [channel], True)
            now = int(ws.clock())
            base = f"https://files.slack.com/files-pri/{self.team.id}-{file_id}"
            files = [{"id": file_id, "created": now, "timestamp": now, "name": filename, "title": filename,
                      "mimetype": mimetype, "filetype": filename.rsplit(".", 1)[-1], "pretty_type": mimetype,
                      "user": user, "editable": False, "size": len(content), "mode": "hosted",
                      "is_external": False, "external_type": "", "is_public": False, "public_url_shared": False,
                      "display_as_bot": False, "username": "", "url_private": f"{base}/{filename}",
                      "url_private_download": f"{base}/download/{filename}",
                      "permalink": f"https://{self.team.domain}.slack.com/files/{user}/{file_id}/{filename}"}]
            msg = ws.post(channel, user, text, thread_ts=thread_ts, by_bot=False, client_msg_id=str(uuid.uuid4()),
                          subtype="file_share", extra={"files": files, "upload": False})
            msg.files = [file_id]
            event = self._user_message_event(msg, channel, "file_share")
        event.update({"files": files, "upload": False, "display_as_bot": False})
        return self.send_event(event)

    def broadcast_reply(self, user: str, text: str, thread_ts: str) -> Response:
        """A thread reply the user also sends to the conversation: a `thread_broadcast` message."""
        ws = self.ws
        with ws.lock:
            channel = ws.im_for(user)
            text = payloads.escape_user_text(text, ws.users, with_names=False)
            msg = ws.post(channel, user, text, thread_ts=thread_ts, by_bot=False, client_msg_id=str(uuid.uuid4()),
                          subtype="thread_broadcast")
            event = self._user_message_event(msg, channel, "thread_broadcast")
            root = ws.find(channel, str(msg.thread_ts))
            event["root"] = root.to_api(include_metadata=False) if root is not None else {}
        event.pop("parent_user_id", None)  # a broadcast carries the root instead
        return self.send_event(event)

    def edit_message(self, user: str, ts: str, text: str) -> Response:
        """The user edits one of their messages: a hidden `message_changed` event."""
        ws = self.ws
        with ws.lock:
            channel = ws.im_for(user)
            msg = ws.find(channel, ts)
            if msg is None or msg.user != user:
                raise LookupError(f"{user} has no message {ts} in their IM")
            previous = msg.to_api(include_metadata=False)
            msg.text = payloads.escape_user_text(text, ws.users, with_names=False)
            msg.edited_ts = ws.next_ts()
            current = msg.to_api(include_metadata=False)
            current["blocks"] = payloads.rich_text(msg.text)
            event_ts = msg.edited_ts
        event = {"type": "message", "subtype": "message_changed", "message": current, "previous_message": previous,
                 "channel": channel, "hidden": True, "ts": event_ts, "event_ts": event_ts, "channel_type": "im"}
        return self.send_event(event)

    def delete_message(self, user: str, ts: str) -> Response:
        """The user deletes one of their messages: a hidden `message_deleted` event (no `user`)."""
        ws = self.ws
        with ws.lock:
            channel = ws.im_for(user)
            msg = ws.find(channel, ts)
            if msg is None or msg.user != user:
                raise LookupError(f"{user} has no message {ts} in their IM")
            previous = msg.to_api(include_metadata=False)
            msg.deleted = True
            event_ts = ws.next_ts()
        event = {"type": "message", "subtype": "message_deleted", "previous_message": previous, "channel": channel,
                 "hidden": True, "deleted_ts": ts, "event_ts": event_ts, "ts": event_ts, "channel_type": "im"}
        return self.send_event(event)

    def other_bot_message(self, user: str, text: str, classic: bool = True) -> Response:
        """Another app's bot writes in the user's IM: a classic `bot_message` (no user), or a modern
        bot message (bot_id and bot_profile, no subtype)."""
        ws = self.ws
        with ws.lock:
            channel = ws.im_for(user)
            bot_id = "B0OTHERAPP"
            msg = ws.post(channel, "" if classic else "U0OTHERBOT", text, by_bot=False,
                          subtype="bot_message" if classic else None, extra={"bot_id": bot_id})
        event: dict[str, Any] = {"type": "message", "text": text, "ts": msg.ts, "bot_id": bot_id, "channel": channel,
                                 "event_ts": msg.ts, "channel_type": "im"}
        if classic:
            event.update({"subtype": "bot_message", "username": "other-app"})
        else:
            event.update({"user": "U0OTHERBOT", "team": self.team.id,
                          "bot_profile": {"id": bot_id, "deleted": False, "name": "other-app", "app_id": "A0OTHERAPP",
                                          "team_id": self.team.id}})
        return self.send_event(event)

    # ---- workspace events -----------------------------------------------------------------------
    def user_change(self, user: str) -> Response:
        """A `user_change` event with the user's current profile (after `sb.update_user`)."""
        ws = self.ws
        with ws.lock:
            now = ws.clock()
            profile = ws.user(user).to_api(now)
        return self.send_event({"type": "user_change", "user": profile, "cache_ts": int(now),
                                "event_ts": f"{now:.6f}"})

    def app_uninstalled(self) -> Response:
        """Slack tells the app it was removed from this workspace (see `sb.uninstall`)."""
        return self.send_event({"type": "app_uninstalled"})

    def tokens_revoked(self, bot: list[str] | None = None, oauth: list[str] | None = None) -> Response:
        """Slack tells the app tokens were revoked: by the users they belong to (the bot user by default)."""
        return self.send_event({"type": "tokens_revoked",
                                "tokens": {"oauth": list(oauth or []),
                                           "bot": list(bot if bot is not None else [self.ws.bot_user_id])}})
