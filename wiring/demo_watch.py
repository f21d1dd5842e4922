"""Watch the sandbox workspace and turn what changed into transcript events.

The demo does not peek inside the bot: it looks at the workspace the way the people in it would
(new DMs, edited messages, ephemeral replies, reactions) after every step of the story.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.models import BOT_ID, Ephemeral, Message, iter_elements
from sandbox.server import Sandbox
from wiring.demo_render import Event, local_stamp, render_blocks, unslack

BOT = "Check-in Coach"


def buttons_of(blocks: Any) -> list[dict[str, str]]:
    """The interactive elements of a message: action_id, label and value, as Slack would send them."""
    out = []
    for element in iter_elements(blocks):
        label = element.get("text")
        out.append({"action_id": str(element.get("action_id", "")), "type": str(element.get("type", "")),
                    "label": str(label.get("text") if isinstance(label, dict) else label or ""),
                    "value": str(element.get("value") or ""), "block_id": str(element.get("_block_id") or "")})
    return out


class Watcher:
    """Diffs the workspace between polls; `poll()` returns what is new, oldest first."""

    def __init__(self, sandbox: Sandbox, names: Mapping[str, str], zones: Mapping[str, str],
                 clock: Callable[[], dt.datetime]) -> None:
        self.sandbox, self.names, self.zones, self.clock = sandbox, names, zones, clock
        self._messages: dict[tuple[str, str], tuple[str | None, bool]] = {}
        self._reactions: dict[tuple[str, str], int] = {}
        self._ephemerals: dict[str, tuple[str, int]] = {}

    def name(self, user: str | None) -> str:
        return self.names.get(user or "", user or "someone")

    def stamp(self, user: str | None, at: dt.datetime) -> str | None:
        return local_stamp(at, self.zones.get(user or "", "UTC")) if user else None

    def poll(self) -> list[Event]:
        ws = self.sandbox.workspace
        found: list[tuple[float, Event]] = []
        with ws.lock:
            messages = [m for msgs in ws.messages.values() for m in msgs]
            ephemerals = list(ws.ephemerals)
            owners = {m.channel: ws.im_owner(m.channel) for m in messages}
            for msg in messages:
                found += self._message(msg, owners.get(msg.channel))
            for eph in ephemerals:
                found += self._ephemeral(eph)
        found.sort(key=lambda item: item[0])
        return [event for _, event in found]

    def _message(self, msg: Message, owner: str | None) -> list[tuple[float, Event]]:
        key = (msg.channel, msg.ts)
        state = (msg.edited_ts, msg.deleted)
        previous = self._messages.get(key)
        out: list[tuple[float, Event]] = []
        now = self.clock()
        if msg.bot_id != BOT_ID:
            self._messages[key] = state
            bot_reactions = sum(1 for users in msg.reactions.values() if self.sandbox.bot_user_id in users)
            if bot_reactions > self._reactions.get(key, 0):
                emoji = ", ".join(f":{n}:" for n, users in msg.reactions.items() if self.sandbox.bot_user_id in users)
                out.append((float(msg.ts) + 1e-7, Event(
                    "reaction", now, owner, self.name(owner), self.stamp(owner, now),
                    f"{BOT} reacted {unslack(emoji, self.names)} to {self.name(msg.user)}'s message",
                    data={"channel": msg.channel, "ts": msg.ts})))
            self._reactions[key] = bot_reactions
            return out
        if previous == state:
            return out
        self._messages[key] = state
        where = "in the thread" if msg.thread_ts and msg.thread_ts != msg.ts else "DM"
        who = owner or msg.channel
        data = {"channel": msg.channel, "ts": msg.ts, "thread_ts": msg.thread_ts,
                "payload": copy.deepcopy(msg.event_payload), "actions": buttons_of(msg.blocks)}
        lines = render_blocks(msg.blocks, msg.text, self.names)
        if previous is None:
            title = f"{BOT} → {self.name(who)} ({where})"
            out.append((float(msg.ts), Event("dm", now, who, self.name(who), self.stamp(who, now), title, lines,
                                             msg.event_type, data, copy.deepcopy(msg))))
        elif msg.deleted:
            out.append((float(msg.edited_ts or msg.ts), Event(
                "update", now, who, self.name(who), self.stamp(who, now),
                f"{BOT} deleted a message to {self.name(who)}", [], msg.event_type, data)))
        else:
            out.append((float(msg.edited_ts or msg.ts), Event(
                "update", now, who, self.name(who), self.stamp(who, now),
                f"{BOT} updated its message to {self.name(who)}", lines, msg.event_type, data,
                copy.deepcopy(msg))))
        return out

    def _ephemeral(self, eph: Ephemeral) -> list[tuple[float, Event]]:
        digest = (eph.text, hash(repr(eph.blocks)))
        state = (digest[0], digest[1] if not eph.deleted else -1)
        previous = self._ephemerals.get(eph.ts)
        if previous == state:
            return []
        self._ephemerals[eph.ts] = state
        now = self.clock()
        data = {"ts": eph.ts, "actions": buttons_of(eph.blocks)}
        lines = render_blocks(eph.blocks, eph.text, self.names)
        verb = "→" if previous is None else "replaced its reply to"
        title = f"{BOT} {verb} {self.name(eph.user)} (only visible to them)"
        kind = "reply" if previous is None else "update"
        return [(float(eph.ts), Event(kind, now, eph.user, self.name(eph.user), self.stamp(eph.user, now), title,
                                      lines, None, data, copy.deepcopy(eph)))]
