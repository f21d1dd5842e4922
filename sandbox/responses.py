"""What happens when the bot posts to a response_url the simulated client handed out.

As in Slack: ephemeral by default; `response_type: in_channel` posts a real message;
`replace_original` / `delete_original` act on the message the interaction came from.
A response_url takes at most 5 posts.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sandbox import checks
from sandbox.checks import Violation
from sandbox.models import fill_ids
from sandbox.records import Call

if TYPE_CHECKING:
    from sandbox.webapi import WebApi
    from sandbox.workspace import Workspace

MAX_USES = 5
METHOD = "response_url"


def _replace(ws: Workspace, target_channel: str, message_ts: str | None, ephemeral_ts: str | None,
             payload: dict[str, Any], delete: bool) -> bool:
    if message_ts:
        msg = ws.find(target_channel, message_ts)
        if msg is None:
            return False
        if delete:
            msg.deleted = True
        else:
            msg.text = str(payload.get("text") or "")
            msg.blocks = fill_ids(payload.get("blocks") or [])
            msg.edited_ts = ws.next_ts()
        return True
    if ephemeral_ts:
        eph = ws.find_ephemeral(ephemeral_ts)
        if eph is None:
            return False
        if delete:
            eph.deleted = True
        else:
            eph.text = str(payload.get("text") or "")
            eph.blocks = fill_ids(payload.get("blocks") or [])
        return True
    return False


def handle_response_url(api: WebApi, token: str, body: bytes) -> tuple[int, dict[str, Any]]:
    ws = next((w for w in api.workspaces() if token in w.response_targets), api.ctx.ws)
    try:
        payload = json.loads(body.decode("utf-8")) if body else {}
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        api.recorder.violate([Violation(METHOD, "invalid_json", "response_url body is not a JSON object")])
        return 400, {"ok": False, "error": "invalid_payload"}
    with ws.lock:
        target = ws.response_targets.get(token)
        if target is None:
            return 404, {"ok": False, "error": "expired_url"}
        target.uses += 1
        out = _apply(api, ws, target.channel, target.user, target.message_ts, target.ephemeral_ts, payload,
                     target.uses)
    api.recorder.call(Call(METHOD, payload, out, ws.clock()))
    return (200 if out.get("ok") else 400 if out.get("error") != "used_url" else 404), out


def _apply(api: WebApi, ws: Workspace, channel: str, user: str, message_ts: str | None, ephemeral_ts: str | None,
           payload: dict[str, Any], uses: int) -> dict[str, Any]:
    if uses > MAX_USES:
        api.recorder.violate([Violation(METHOD, "response_url", f"used more than {MAX_USES} times")])
        return {"ok": False, "error": "used_url"}
    delete = bool(payload.get("delete_original"))
    found: list[Violation] = [] if delete else checks.check_message(METHOD, payload)
    api.recorder.violate(found)
    if any(v.kind in (checks.BLOCK_KIT, checks.METADATA) for v in found) and api.strict:
        return {"ok": False, "error": "invalid_blocks"}
    if delete or payload.get("replace_original"):
        if _replace(ws, channel, message_ts, ephemeral_ts, payload, delete):
            return {"ok": True}
        if delete:
            return {"ok": False, "error": "message_not_found"}
    text, blocks = str(payload.get("text") or ""), payload.get("blocks")
    thread_ts = payload.get("thread_ts") or None
    if payload.get("response_type") == "in_channel":
        ws.post(channel, ws.bot_user_id, text, blocks if isinstance(blocks, list) else None, thread_ts=thread_ts)
    else:
        ws.add_ephemeral(channel, user, text, blocks if isinstance(blocks, list) else None, METHOD, thread_ts)
    return {"ok": True}
