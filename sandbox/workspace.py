"""In-memory state of the sandbox Slack workspace: users, conversations, messages, files.

Every public method takes the workspace lock, so the HTTP server threads, the simulated client
and the test thread can all touch it at once. Objects handed out to tests are copies.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from sandbox.models import (
    BOT_NAME,
    Channel,
    Ephemeral,
    Message,
    ResponseTarget,
    SlackError,
    Team,
    UploadedFile,
    User,
    fill_ids,
)


class Workspace:
    """One workspace's state. `clock` gives the wall time used for message timestamps.

    Workspaces of one Enterprise Grid org share a lock and their users (the same W… user object
    is a member of several workspaces).
    """

    def __init__(self, clock: Callable[[], float] = time.time, team: Team | None = None,
                 lock: threading.RLock | None = None) -> None:
        self.lock = lock or threading.RLock()
        self.clock = clock
        self.team = team or Team()
        self.installed = True  # False once the app is uninstalled from it
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.files: dict[str, UploadedFile] = {}
        self.response_targets: dict[str, ResponseTarget] = {}
        self.ims: dict[str, str] = {}  # user ID -> their IM with the bot (IDs unrelated, as in Slack)
        self._last_ts = 0.0
        self._ids = itertools.count(1)
        bot = self.team.bot_user_id
        self.users[bot] = User(bot, BOT_NAME, "Check-in Coach", is_bot=True, team_id=self.team.id)

    @property
    def bot_user_id(self) -> str:
        return self.team.bot_user_id

    # ---- ids and timestamps -------------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        with self.lock:
            return f"{prefix}0{next(self._ids):07d}{secrets.token_hex(2).upper()}"

    def next_ts(self) -> str:
        """A message ts: the clock's time, but always strictly increasing (Slack ts are unique)."""
        with self.lock:
            now = round(self.clock(), 6)
            self._last_ts = now if now > self._last_ts else round(self._last_ts + 0.000001, 6)
            return f"{self._last_ts:.6f}"

    # ---- users and conversations --------------------------------------------------------------
    def add_user(self, user_id: str, name: str | None = None, tz: str | None = "UTC", is_admin: bool = False,
                 real_name: str | None = None, deleted: bool = False, email: str | None = None) -> User:
        with self.lock:
            user = User(user_id, name or user_id.lower(), real_name or name or user_id, tz, is_admin,
                        deleted=deleted, email=email, team_id=self.team.id, enterprise_id=self.team.enterprise_id,
                        enterprise_name=self.team.enterprise_name, teams=[self.team.id], updated=self.clock())
            self.users[user_id] = user
            return copy.deepcopy(user)

    def join(self, user: User) -> None:
        """Make a Grid org's user (the same object) a member of this workspace too."""
        with self.lock:
            if self.team.id not in user.teams:
                user.teams.append(self.team.id)
            self.users[user.id] = user

    def user(self, user_id: str) -> User:
        with self.lock:
            found = self.users.get(user_id)
            if found is None:
                raise SlackError("user_not_found")
            return found

    def add_channel(self, channel_id: str, name: str, members: list[str] | None = None,
                    bot_is_member: bool = True) -> Channel:
        with self.lock:
            chan = Channel(channel_id, name, members=set(members or []))
            if bot_is_member:
                chan.members.add(self.bot_user_id)
            self.channels[channel_id] = chan
            self.messages.setdefault(channel_id, [])
            return chan

    def im_for(self, user_id: str, channel_id: str | None = None) -> str:
        """The IM channel between the bot and a user, opened on first use (as conversations.open).

        Its ID is random, as in Slack (nothing relates a D… ID to the user's ID); `channel_id`
        chooses it when the IM is first opened (to replay a recorded payload).
        """
        with self.lock:
            user = self.users.get(user_id)
            if user is None:
                raise SlackError("user_not_found")
            if user.is_bot:
                raise SlackError("cannot_dm_bot")
            existing = self.ims.get(user_id)
            if existing is not None:
                return existing
            channel_id = channel_id or self.new_id("D")
            self.ims[user_id] = channel_id
            self.channels[channel_id] = Channel(channel_id, user_id, is_im=True, im_user=user_id,
                                                members={user_id, self.bot_user_id})
            self.messages[channel_id] = []
            return channel_id

    def has_im(self, user_id: str) -> bool:
        with self.lock:
            return user_id in self.ims

    def im_owner(self, channel_id: str) -> str | None:
        with self.lock:
            chan = self.channels.get(channel_id)
            return chan.im_user if chan is not None and chan.is_im else None

    def resolve_channel(self, channel: str, allow_user: bool = True, for_write: bool = True) -> Channel:
        """A conversation by ID; a user ID means that user's IM with the bot (as Slack allows)."""
        with self.lock:
            if allow_user and channel[:1] in ("U", "W") and channel not in self.channels:
                if channel not in self.users:
                    raise SlackError("channel_not_found")
                if self.users[channel].deleted and for_write:
                    # A deactivated user's IM is archived.
                    raise SlackError("is_archived")
                return self.channels[self.im_for(channel)]
            chan = self.channels.get(channel)
            if chan is None:
                raise SlackError("channel_not_found")
            if for_write and chan.is_im and chan.im_user and self.users[chan.im_user].deleted:
                raise SlackError("is_archived")
            if self.bot_user_id not in chan.members:
                raise SlackError("not_in_channel")
            return chan

    # ---- messages -----------------------------------------------------------------------------
    def post(self, channel: str, user: str, text: str, blocks: list[dict[str, Any]] | None = None,
             metadata: dict[str, Any] | None = None, thread_ts: str | None = None, by_bot: bool = True,
             client_msg_id: str | None = None, subtype: str | None = None,
             extra: dict[str, Any] | None = None) -> Message:
        with self.lock:
            parent = None
            if thread_ts:
                parent = self.find(channel, thread_ts)
                if parent is None:
                    raise SlackError("thread_not_found" if by_bot else "message_not_found")
                if parent.thread_ts and parent.thread_ts != parent.ts:
                    parent = self.find(channel, parent.thread_ts) or parent
                    thread_ts = parent.ts
            msg = Message(channel, self.next_ts(), user, text, fill_ids(blocks or []),
                          copy.deepcopy(metadata), thread_ts, self.team.bot_id if by_bot else None,
                          client_msg_id=client_msg_id, team=self.team.id, subtype=subtype,
                          extra=copy.deepcopy(extra or {}))
            if parent is not None:
                parent.reply_ts.append(msg.ts)
                msg.parent_user_id = parent.user
            self.messages.setdefault(channel, []).append(msg)
            return msg

    def find(self, channel: str, ts: str) -> Message | None:
        with self.lock:
            for msg in self.messages.get(channel, []):
                if msg.ts == ts and not msg.deleted:
                    return msg
            return None

    def all_messages(self, channel: str | None = None, include_deleted: bool = False) -> list[Message]:
        with self.lock:
            chans = [channel] if channel is not None else list(self.messages)
            out = [m for c in chans for m in self.messages.get(c, []) if include_deleted or not m.deleted]
            return copy.deepcopy(sorted(out, key=lambda m: float(m.ts)))

    def add_ephemeral(self, channel: str, user: str, text: str, blocks: list[dict[str, Any]] | None,
                      source: str, thread_ts: str | None = None, ts: str | None = None) -> Ephemeral:
        """`ts` (reserved earlier with next_ts) places a slash command's ack reply when it was sent."""
        with self.lock:
            eph = Ephemeral(channel, user, text, fill_ids(blocks or []), ts or self.next_ts(), source, thread_ts)
            self.ephemerals.append(eph)
            return eph

    def find_ephemeral(self, ts: str) -> Ephemeral | None:
        with self.lock:
            return next((e for e in self.ephemerals if e.ts == ts), None)

    # ---- response urls ------------------------------------------------------------------------
    def new_response_target(self, channel: str, user: str, message_ts: str | None = None,
                            ephemeral_ts: str | None = None) -> ResponseTarget:
        with self.lock:
            token = secrets.token_urlsafe(12)
            target = ResponseTarget(token, channel, user, message_ts, ephemeral_ts, created=self.clock())
            self.response_targets[token] = target
            return target
