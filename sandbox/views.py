"""Modal stacks, Home tabs and trigger_ids, and the views.* Web API methods."""

from __future__ import annotations

import copy
import itertools
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.models import APP_ID, SlackError, Team, fill_ids

MAX_STACK = 3


@dataclass
class Trigger:
    user: str
    expires_at: float  # time.monotonic()
    used: bool = False


class ViewStore:
    """Views by id, each user's modal stack and Home tab, and the trigger_ids the client issued.

    `trigger_ttl` is the trigger_id validity in seconds of wall time (Slack: 3 s).
    """

    def __init__(self, lock: threading.RLock, clock: Callable[[], float], trigger_ttl: float = 3.0,
                 team: Team | None = None) -> None:
        self.lock = lock
        self.team = team or Team()
        self.clock = clock
        self.trigger_ttl = trigger_ttl
        self.views: dict[str, dict[str, Any]] = {}
        self.owner: dict[str, str] = {}
        self.closed: set[str] = set()
        self.stacks: dict[str, list[str]] = {}
        self.home: dict[str, str] = {}
        self.external: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        self._n = itertools.count(1)

    # ---- triggers -----------------------------------------------------------------------------
    def issue_trigger(self, user: str) -> str:
        with self.lock:
            trigger_id = f"{int(time.time())}.{next(self._n):07d}.{secrets.token_hex(16)}"
            self.triggers[trigger_id] = Trigger(user, time.monotonic() + self.trigger_ttl)
            return trigger_id

    def _exchange(self, trigger_id: Any) -> str:
        if not isinstance(trigger_id, str) or trigger_id.count(".") != 2:
            raise SlackError("invalid_trigger_id")
        trigger = self.triggers.get(trigger_id)
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if time.monotonic() > trigger.expires_at:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger.user

    # ---- view objects -------------------------------------------------------------------------
    def _new_hash(self) -> str:
        return f"{int(self.clock())}.{secrets.token_hex(4)}"

    def _build(self, payload: dict[str, Any], view_id: str, root: str | None, previous: str | None) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": view_id,
            "team_id": self.team.id,
            "type": payload.get("type"),
            "blocks": fill_ids(payload.get("blocks") or []),
            "private_metadata": payload.get("private_metadata", ""),
            "callback_id": payload.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self._new_hash(),
            "clear_on_close": bool(payload.get("clear_on_close", False)),
            "notify_on_close": bool(payload.get("notify_on_close", False)),
            "root_view_id": root or view_id,
            "previous_view_id": previous,
            "app_id": APP_ID,
            "external_id": payload.get("external_id", ""),
            "app_installed_team_id": self.team.id,
            "bot_id": self.team.bot_id,
        }
        for key in ("title", "submit", "close"):
            view[key] = copy.deepcopy(payload.get(key))
        return view

    def _store(self, user: str, payload: dict[str, Any], root: str | None = None,
               previous: str | None = None, view_id: str | None = None) -> dict[str, Any]:
        ext = payload.get("external_id")
        view_id = view_id or f"V0{next(self._n):07d}{secrets.token_hex(2).upper()}"
        if ext:
            if self.external.get(ext, view_id) != view_id:
                raise SlackError("duplicate_external_id")
            self.external[ext] = view_id
        view = self._build(payload, view_id, root, previous)
        self.views[view_id] = view
        self.owner[view_id] = user
        return view

    def _find(self, view_id: Any, external_id: Any) -> str:
        if not view_id and external_id:
            view_id = self.external.get(str(external_id))
        if not isinstance(view_id, str) or view_id not in self.views or view_id in self.closed:
            raise SlackError("not_found")
        return view_id

    # ---- operations ---------------------------------------------------------------------------
    def open(self, trigger_id: Any, payload: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            user = self._exchange(trigger_id)
            for old in self.stacks.get(user, []):
                self.closed.add(old)
            view = self._store(user, payload)
            self.stacks[user] = [view["id"]]
            return copy.deepcopy(view)

    def push(self, trigger_id: Any, payload: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            user = self._exchange(trigger_id)
            stack = self.stacks.get(user) or []
            if not stack:
                raise SlackError("not_found")
            if len(stack) >= MAX_STACK:
                raise SlackError("push_limit_reached")
            view = self._store(user, payload, root=stack[0], previous=stack[-1])
            stack.append(view["id"])
            return copy.deepcopy(view)

    def push_direct(self, user: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Push without a trigger (a view_submission's `response_action: push`)."""
        with self.lock:
            stack = self.stacks.setdefault(user, [])
            if len(stack) >= MAX_STACK:
                raise SlackError("push_limit_reached")
            view = self._store(user, payload, root=stack[0] if stack else None, previous=stack[-1] if stack else None)
            stack.append(view["id"])
            return copy.deepcopy(view)

    def update(self, view_id: Any, external_id: Any, payload: dict[str, Any], hash_: Any = None) -> dict[str, Any]:
        with self.lock:
            found = self._find(view_id, external_id)
            old = self.views[found]
            if hash_ and hash_ != old["hash"]:
                raise SlackError("hash_conflict")
            view = self._store(self.owner[found], payload, old["root_view_id"], old["previous_view_id"], found)
            view["state"] = {"values": _kept_state(old, view)}
            return copy.deepcopy(view)

    def publish(self, user: str, payload: dict[str, Any], hash_: Any = None) -> dict[str, Any]:
        with self.lock:
            current = self.home.get(user)
            if hash_ and current and hash_ != self.views[current]["hash"]:
                raise SlackError("hash_conflict")
            view = self._store(user, payload, view_id=current)
            self.home[user] = view["id"]
            return copy.deepcopy(view)

    def set_state(self, view_id: str, values: dict[str, Any]) -> None:
        with self.lock:
            if view_id in self.views:
                self.views[view_id]["state"] = {"values": copy.deepcopy(values)}

    def close(self, user: str, view_id: str | None = None, clear: bool = False) -> None:
        """Close the top modal (or `view_id` and those above it); `clear` closes the whole stack."""
        with self.lock:
            stack = self.stacks.get(user, [])
            if clear:
                cut = 0
            elif view_id is not None and view_id in stack:
                cut = stack.index(view_id)
            else:
                cut = max(len(stack) - 1, 0)
            for closed in stack[cut:]:
                self.closed.add(closed)
            self.stacks[user] = stack[:cut]

    def get(self, view_id: str) -> dict[str, Any] | None:
        with self.lock:
            view = self.views.get(view_id)
            return copy.deepcopy(view) if view is not None else None

    def current(self, user: str) -> list[dict[str, Any]]:
        """The user's Home tab (if published) and open modals, bottom of the stack first."""
        with self.lock:
            ids = ([self.home[user]] if user in self.home else []) + list(self.stacks.get(user, []))
            return [copy.deepcopy(self.views[i]) for i in ids]


def _inputs(view: dict[str, Any]) -> dict[str, str]:
    return {str(b.get("block_id")): str(b["element"].get("action_id")) for b in view.get("blocks") or []
            if isinstance(b, dict) and b.get("type") == "input" and isinstance(b.get("element"), dict)}


def _kept_state(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What the user typed survives a views.update in every input whose block_id and action_id stay."""
    inputs = _inputs(new)
    values = (old.get("state") or {}).get("values") or {}
    return {block_id: copy.deepcopy(actions) for block_id, actions in values.items()
            if block_id in inputs and inputs[block_id] in actions}


# ---- Web API methods --------------------------------------------------------------------------------

def _payload(args: dict[str, Any]) -> dict[str, Any]:
    view = args.get("view")
    if not isinstance(view, dict):
        raise SlackError("invalid_arguments")
    return view


def views_open(store: ViewStore, args: dict[str, Any]) -> dict[str, Any]:
    payload = _payload(args)
    if payload.get("type") != "modal":
        raise SlackError("invalid_arguments")
    return {"ok": True, "view": store.open(args.get("trigger_id") or args.get("interactivity_pointer"), payload)}


def views_push(store: ViewStore, args: dict[str, Any]) -> dict[str, Any]:
    payload = _payload(args)
    return {"ok": True, "view": store.push(args.get("trigger_id") or args.get("interactivity_pointer"), payload)}


def views_update(store: ViewStore, args: dict[str, Any]) -> dict[str, Any]:
    payload = _payload(args)
    if not args.get("view_id") and not args.get("external_id"):
        raise SlackError("invalid_arguments")
    return {"ok": True, "view": store.update(args.get("view_id"), args.get("external_id"), payload, args.get("hash"))}


def views_publish(store: ViewStore, users: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    payload = _payload(args)
    user = args.get("user_id")
    if user not in users:
        # Slack's answer for a user_id it doesn't know (not user_not_found).
        raise SlackError("invalid_arguments", response_metadata={"messages": ["invalid `user_id`"]})
    if payload.get("type") != "home":
        raise SlackError("invalid_arguments")
    return {"ok": True, "view": store.publish(str(user), payload, args.get("hash"))}
