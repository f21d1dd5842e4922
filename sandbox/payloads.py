"""Builders for what Slack sends an app: slash command forms, interaction payloads, event envelopes."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping
from typing import Any

from sandbox.models import APP_ID, Team, User

VERIFICATION_TOKEN = "sandboxVerificationToken"  # the legacy `token` field Slack still sends
_SLACK_TOKEN = re.compile(r"<(?:[@#!][^<>]*|https?://[^<>]*|mailto:[^<>]*)>")


def escape_user_text(text: str, users: Mapping[str, User], with_names: bool) -> str:
    """Text as Slack delivers what a user typed: `&`, `<`, `>` escaped, `@name` turned into a mention.

    Tokens already in Slack's format (`<@U123>`, `<#C1|x>`, `<!here>`, `<https://…>`) pass through,
    so tests can write mentions directly. `with_names` gives `<@U123|name>` (slash commands with
    should_escape) instead of `<@U123>` (messages).
    """
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    out = _SLACK_TOKEN.sub(keep, text)
    out = out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    by_name = {u.name: u for u in users.values() if not u.is_bot}
    for special in ("here", "channel", "everyone"):
        out = re.sub(rf"(?<![\w@])@{special}\b", f"<!{special}>", out)

    def mention(match: re.Match[str]) -> str:
        user = by_name.get(match.group(1))
        if user is None:
            return match.group(0)
        return f"<@{user.id}|{user.name}>" if with_names else f"<@{user.id}>"

    out = re.sub(r"(?<![\w<])@([\w.\-]*\w)", mention, out)
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], out)


def user_ref(user: User, team: Team | None = None) -> dict[str, Any]:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": (team or Team()).id}


def team_ref(team: Team | None = None) -> dict[str, Any]:
    team = team or Team()
    out: dict[str, Any] = {"id": team.id, "domain": team.domain}
    if team.enterprise_id:
        out.update({"enterprise_id": team.enterprise_id, "enterprise_name": team.enterprise_name})
    return out


def enterprise_ref(team: Team | None) -> dict[str, Any] | None:
    if team is None or not team.enterprise_id:
        return None
    return {"id": team.enterprise_id, "name": team.enterprise_name}


def slash_form(user: User, command: str, text: str, channel_id: str, channel_name: str,
               response_url: str, trigger_id: str, team: Team | None = None,
               org_wide: bool = False) -> dict[str, str]:
    team = team or Team()
    form = {
        "token": VERIFICATION_TOKEN,
        "team_id": team.id,
        "team_domain": team.domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "true" if org_wide else "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    if team.enterprise_id:
        form.update({"enterprise_id": team.enterprise_id, "enterprise_name": team.enterprise_name or ""})
    return form


def find_element(blocks: Any, action_id: str, block_id: str | None) -> tuple[dict[str, Any], str] | None:
    """(element, block_id) of the interactive element with this action_id in a list of blocks."""
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict) or (block_id is not None and block.get("block_id") != block_id):
            continue
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        elements += [block[k] for k in ("accessory", "element") if k in block]
        for el in elements:
            if isinstance(el, dict) and el.get("action_id") == action_id:
                return el, str(block.get("block_id", ""))
    return None


def _option(element: dict[str, Any], value: Any) -> dict[str, Any] | None:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return next((o for o in options if o.get("value") == value), None)


def action_of(element: dict[str, Any], block_id: str, value: Any) -> dict[str, Any]:
    """The `actions[]` entry for a click or choice on an element (value overrides a button's own)."""
    kind = element.get("type", "button")
    action: dict[str, Any] = {"action_id": element.get("action_id"), "block_id": block_id, "type": kind,
                              "action_ts": f"{time.time():.6f}"}
    if kind == "button":
        action["text"] = element.get("text", {"type": "plain_text", "text": ""})
        chosen = value if value is not None else element.get("value")
        if chosen is not None:
            action["value"] = chosen
        if "style" in element:
            action["style"] = element["style"]
    elif kind in ("static_select", "overflow", "radio_buttons", "external_select"):
        action["selected_option"] = _option(element, value) or ({"value": value} if value is not None else None)
    elif kind in ("checkboxes", "multi_static_select"):
        values = value if isinstance(value, list) else [value]
        action["selected_options"] = [o for o in (_option(element, v) for v in values) if o]
    elif kind == "users_select":
        action["selected_user"] = value
    elif kind == "datepicker":
        action["selected_date"] = value
    elif kind == "timepicker":
        action["selected_time"] = value
    else:
        action["value"] = value
    return action


def state_value(element: dict[str, Any], raw: Any) -> dict[str, Any]:
    """One input's entry in `view.state.values[block_id][action_id]`."""
    kind = element.get("type", "plain_text_input")
    out: dict[str, Any] = {"type": kind}
    if kind in ("static_select", "radio_buttons", "external_select"):
        out["selected_option"] = _option(element, raw) if raw is not None else None
    elif kind in ("checkboxes", "multi_static_select"):
        raws = raw if isinstance(raw, list) else ([] if raw is None else [raw])
        out["selected_options"] = [o for o in (_option(element, v) for v in raws) if o]
    elif kind == "users_select":
        out["selected_user"] = raw
    elif kind == "multi_users_select":
        out["selected_users"] = list(raw or [])
    elif kind == "conversations_select":
        out["selected_conversation"] = raw
    elif kind == "datepicker":
        out["selected_date"] = raw
    elif kind == "timepicker":
        out["selected_time"] = raw
    else:
        out["value"] = None if raw is None else str(raw)
    return out


def _initial(element: dict[str, Any]) -> Any:
    if "initial_option" in element and element["initial_option"]:
        return element["initial_option"].get("value")
    if element.get("initial_options"):
        return [o.get("value") for o in element["initial_options"]]
    for key in ("initial_value", "initial_user", "initial_conversation", "initial_date", "initial_time"):
        if element.get(key) is not None:
            return element[key]
    return None


def state_values(view: dict[str, Any], values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`state.values` for a view's input blocks; `values` keys are action_ids, block_ids, or
    block_ids mapping to {action_id: value}. Unknown keys raise KeyError (a typo in a test)."""
    state: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for block in view.get("blocks") or []:
        if not isinstance(block, dict) or block.get("type") != "input" or "element" not in block:
            continue
        element, block_id = block["element"], str(block.get("block_id"))
        action_id = str(element.get("action_id"))
        raw: Any = None
        nested = values.get(block_id)
        if isinstance(nested, Mapping) and action_id in nested:
            raw = nested[action_id]
            used.add(block_id)
        elif action_id in values:
            raw = values[action_id]
            used.add(action_id)
        elif block_id in values:
            raw = values[block_id]
            used.add(block_id)
        else:
            # Slack reports an untouched input with its initial value, not as empty.
            raw = _initial(element)
        state[block_id] = {action_id: state_value(element, raw)}
    unknown = set(values) - used
    if unknown:
        raise KeyError(f"no input block or action_id {sorted(unknown)} in view {view.get('callback_id')!r}")
    return state


def event_envelope(event: dict[str, Any], event_id: str | None = None, team: Team | None = None,
                   org_wide: bool = False) -> dict[str, Any]:
    team = team or Team()
    out: dict[str, Any] = {
        "token": VERIFICATION_TOKEN,
        "team_id": team.id,
        "context_team_id": team.id,
        "context_enterprise_id": team.enterprise_id,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev0{secrets.token_hex(5).upper()}",
        "event_time": int(time.time()),
        # An org-wide install's authorization is the org's: no team_id.
        "authorizations": [{"enterprise_id": team.enterprise_id, "team_id": None if org_wide else team.id,
                            "user_id": team.bot_user_id, "is_bot": True, "is_enterprise_install": org_wide}],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_urlsafe(24)}",
    }
    if team.enterprise_id:
        out["enterprise_id"] = team.enterprise_id
    return out


def rich_text(text: str) -> list[dict[str, Any]]:
    return [{"type": "rich_text", "block_id": secrets.token_urlsafe(4)[:5],
             "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}]}]
