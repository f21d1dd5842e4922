"""Checks run on every call: the method spec (existence, required args, scopes) and Block Kit limits.

The limits are Slack's documented ones; Slack rejects payloads over them with `invalid_blocks`
(messages) or `invalid_arguments` (views), so the sandbox does the same and records why.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Violation:
    method: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.method}: [{self.kind}] {self.detail}"


# kinds whose payload Slack itself would refuse
BLOCK_KIT = "block_kit"
TEXT_FALLBACK = "text_fallback"
MRKDWN = "mrkdwn"
# Everything Slack reads as markup after a "<": mentions, channels, specials, dates and links.
# https://api.slack.com/reference/surfaces/formatting#escaping: any other "<" must be sent as &lt;.
_MARKUP = re.compile(r"<(?:@[UW][A-Z0-9]+|#C[A-Z0-9]+|!(?:here|channel|everyone)|!subteam\^[A-Z0-9]+|"
                     r"!date\^[^>|]+|(?:https?://|mailto:)[^>|\s]+)(?:\|[^>]*)?>")


def markup_problem(text: str) -> str | None:
    """A "<" in mrkdwn that isn't Slack markup shows as a broken link (user text not escaped?)."""
    stripped = _MARKUP.sub("", text)
    if "<" in stripped:
        at = stripped.index("<")
        return f"unescaped '<' in mrkdwn near {stripped[at:at + 30]!r}; send it as &lt;"
    return None
# The bot never broadcasts, and never writes a labelled mention or link itself: Slack sends what a
# person typed in those forms (`<@U1|ana>`, `<https://x|click>`), so one in a bot's mrkdwn is user
# text passed on unescaped. Tests fail on these (tests/conftest.py), not merely record them.
UNSAFE_MARKUP = "unsafe_markup"
_LIVE = re.compile(r"<!(?:here|channel|everyone)(?:\|[^>]*)?>|<!subteam\^[^>]*>|<@[UW][A-Z0-9]+\|[^>]*>|"
                   r"<(?:https?://|mailto:)[^>|\s]*\|[^>]*>")


def live_markup(text: str) -> str | None:
    """A broadcast, or a labelled mention or link, that Slack would make live."""
    found = _LIVE.search(text)
    return f"live markup {found.group(0)[:40]!r} (user text not escaped?)" if found else None


def unsafe_markup(text: Any, blocks: Any) -> list[str]:
    """Every mrkdwn string of a message or view that would broadcast, mention or link."""
    out: list[str] = []
    if isinstance(text, str) and (problem := live_markup(text)):
        out.append(f"text: {problem}")

    def walk(where: str, node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                if problem := live_markup(node["text"]):
                    out.append(f"{where}: {problem}")
            for key, value in node.items():
                walk(f"{where}.{key}", value)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(f"{where}[{i}]", value)

    walk("blocks", blocks)
    return out


METADATA = "metadata"
UNKNOWN_METHOD = "unknown_method"
MISSING_ARGUMENT = "missing_argument"
MISSING_SCOPE = "missing_scope"


class SpecIndex:
    """Method specs from `<spec_dir>/methods/<method>.json`, and the manifest's bot scopes."""

    def __init__(self, spec_dir: Path | None, manifest_path: Path | None) -> None:
        methods = spec_dir / "methods" if spec_dir is not None else None
        self.methods_dir = methods if methods is not None and methods.is_dir() else None
        self._cache: dict[str, dict[str, Any] | None] = {}
        self.bot_scopes: set[str] | None = None
        if manifest_path is not None and manifest_path.is_file():
            manifest = yaml.safe_load(manifest_path.read_text(encoding="utf-8")) or {}
            scopes = ((manifest.get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
            self.bot_scopes = {str(s) for s in scopes}

    @property
    def enabled(self) -> bool:
        return self.methods_dir is not None

    def spec(self, method: str) -> dict[str, Any] | None:
        if self.methods_dir is None or "/" in method or method.startswith("."):
            return None
        if method not in self._cache:
            path = self.methods_dir / f"{method}.json"
            self._cache[method] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        return self._cache[method]

    def check(self, method: str, args: dict[str, Any]) -> list[Violation]:
        if not self.enabled:
            return []
        spec = self.spec(method)
        if spec is None:
            return [Violation(method, UNKNOWN_METHOD, f"{method} is not a Slack Web API method")]
        out: list[Violation] = []
        required = ((spec.get("args") or {}).get("required")) or []
        for name in required:
            if name != "token" and args.get(name) in (None, ""):
                out.append(Violation(method, MISSING_ARGUMENT, f"required argument {name!r} is missing"))
        needed = (spec.get("scope") or {}).get("bot") or []
        if needed and self.bot_scopes is not None and not self.bot_scopes.intersection(needed):
            out.append(Violation(method, MISSING_SCOPE,
                                 f"needs one of {sorted(needed)}; manifest has {sorted(self.bot_scopes)}"))
        return out


# ---- Block Kit ------------------------------------------------------------------------------------

MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")

    def length(self, where: str, value: Any, limit: int) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.fail(where, f"{len(value)} chars > {limit}")

    def text(self, where: str, obj: Any, limit: int, plain_only: bool = False, required: bool = True) -> None:
        if obj is None:
            if required:
                self.fail(where, "text object missing")
            return
        if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
            self.fail(where, "not a text object")
            return
        if plain_only and obj.get("type") != "plain_text":
            self.fail(where, "must be plain_text")
        value = obj.get("text")
        if not isinstance(value, str) or not value:
            self.fail(where, "text must be a non-empty string")
            return
        self.length(where, value, limit)
        if obj.get("type") == "mrkdwn" and (problem := markup_problem(value)):
            self.fail(where, problem)

    def options(self, where: str, options: Any, max_items: int) -> None:
        if not isinstance(options, list):
            return
        if len(options) > max_items:
            self.fail(where, f"{len(options)} options > {max_items}")
        for i, opt in enumerate(options):
            if not isinstance(opt, dict):
                self.fail(f"{where}[{i}]", "option must be an object")
                continue
            self.text(f"{where}[{i}].text", opt.get("text"), 75)
            self.length(f"{where}[{i}].value", opt.get("value"), 150)
            self.text(f"{where}[{i}].description", opt.get("description"), 75, required=False)

    def element(self, where: str, el: Any) -> None:
        if not isinstance(el, dict) or not isinstance(el.get("type"), str):
            self.fail(where, "element must be an object with a type")
            return
        kind = el["type"]
        self.length(f"{where}.action_id", el.get("action_id"), 255)
        if "placeholder" in el:
            self.text(f"{where}.placeholder", el["placeholder"], 150, plain_only=True)
        if "confirm" in el and isinstance(el["confirm"], dict):
            conf = el["confirm"]
            self.text(f"{where}.confirm.title", conf.get("title"), 100, plain_only=True)
            self.text(f"{where}.confirm.text", conf.get("text"), 300)
            self.text(f"{where}.confirm.confirm", conf.get("confirm"), 30, plain_only=True)
            self.text(f"{where}.confirm.deny", conf.get("deny"), 30, plain_only=True)
        if kind == "button":
            self.text(f"{where}.text", el.get("text"), 75, plain_only=True)
            self.length(f"{where}.value", el.get("value"), 2000)
            self.length(f"{where}.url", el.get("url"), 3000)
            if el.get("style") not in (None, "primary", "danger"):
                self.fail(f"{where}.style", "must be primary or danger")
        elif kind == "plain_text_input":
            for key in ("max_length", "min_length"):
                if isinstance(el.get(key), int) and el[key] > 3000:
                    self.fail(f"{where}.{key}", f"{el[key]} > 3000")
        elif kind in ("static_select", "multi_static_select"):
            self.options(f"{where}.options", el.get("options"), 100)
        elif kind == "overflow":
            self.options(f"{where}.options", el.get("options"), 5)
        elif kind in ("checkboxes", "radio_buttons"):
            self.options(f"{where}.options", el.get("options"), 10)

    def block(self, where: str, block: Any, block_ids: set[str]) -> None:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            self.fail(where, "block must be an object with a type")
            return
        kind = block["type"]
        bid = block.get("block_id")
        if bid is not None:
            if not isinstance(bid, str):
                self.fail(f"{where}.block_id", "must be a string")
            else:
                self.length(f"{where}.block_id", bid, 255)
                if bid in block_ids:
                    self.fail(f"{where}.block_id", f"duplicate block_id {bid!r}")
                block_ids.add(bid)
        if kind == "section":
            if "text" not in block and "fields" not in block:
                self.fail(where, "section needs text or fields")
            if "text" in block:
                self.text(f"{where}.text", block["text"], 3000)
            fields = block.get("fields")
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > 10:
                    self.fail(f"{where}.fields", "at most 10 fields")
                for i, f in enumerate(fields if isinstance(fields, list) else []):
                    self.text(f"{where}.fields[{i}]", f, 2000)
            if "accessory" in block:
                self.element(f"{where}.accessory", block["accessory"])
        elif kind == "header":
            self.text(f"{where}.text", block.get("text"), 150, plain_only=True)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                self.fail(f"{where}.elements", "context needs 1 to 10 elements")
            for i, el in enumerate(elements if isinstance(elements, list) else []):
                if isinstance(el, dict) and el.get("type") in ("plain_text", "mrkdwn"):
                    self.text(f"{where}.elements[{i}]", el, 3000)
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
                self.fail(f"{where}.elements", "actions needs 1 to 25 elements")
            seen: set[str] = set()
            for i, el in enumerate(elements if isinstance(elements, list) else []):
                self.element(f"{where}.elements[{i}]", el)
                aid = el.get("action_id") if isinstance(el, dict) else None
                if isinstance(aid, str):
                    if aid in seen:
                        self.fail(f"{where}.elements[{i}].action_id", f"duplicate action_id {aid!r} in block")
                    seen.add(aid)
        elif kind == "input":
            self.text(f"{where}.label", block.get("label"), 2000, plain_only=True)
            self.text(f"{where}.hint", block.get("hint"), 2000, plain_only=True, required=False)
            if "element" not in block:
                self.fail(where, "input needs an element")
            else:
                self.element(f"{where}.element", block["element"])
        elif kind == "image":
            if ("image_url" in block) == ("slack_file" in block):
                self.fail(where, "image needs exactly one of image_url and slack_file")
            self.length(f"{where}.image_url", block.get("image_url"), 3000)
            if not block.get("alt_text"):
                self.fail(f"{where}.alt_text", "required")
            self.length(f"{where}.alt_text", block.get("alt_text"), 2000)

    def blocks(self, blocks: Any, surface: str) -> None:
        if blocks is None:
            return
        if not isinstance(blocks, list):
            self.fail("blocks", "must be an array")
            return
        limit = MAX_BLOCKS[surface]
        if len(blocks) > limit:
            self.fail("blocks", f"{len(blocks)} blocks > {limit} in a {surface}")
        ids: set[str] = set()
        for i, block in enumerate(blocks):
            self.block(f"blocks[{i}]", block, ids)


def check_blocks(blocks: Any, surface: str = "message") -> list[str]:
    checker = _Checker()
    checker.blocks(blocks, surface)
    return checker.problems


def check_view(view: Any) -> list[str]:
    """Problems with a modal or Home tab view payload."""
    if not isinstance(view, dict):
        return ["view: must be an object"]
    checker = _Checker()
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [f"view.type: must be modal or home, not {kind!r}"]
    if kind == "modal":
        checker.text("view.title", view.get("title"), 24, plain_only=True)
        checker.text("view.submit", view.get("submit"), 24, plain_only=True, required=False)
        checker.text("view.close", view.get("close"), 24, plain_only=True, required=False)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and "submit" not in view:
            checker.fail("view.submit", "required when the modal has input blocks")
    checker.length("view.private_metadata", view.get("private_metadata"), 3000)
    checker.length("view.callback_id", view.get("callback_id"), 255)
    checker.length("view.external_id", view.get("external_id"), 255)
    if "blocks" not in view:
        checker.fail("view.blocks", "required")
    checker.blocks(view.get("blocks"), kind)
    return checker.problems


def view_markup(view: Any) -> list[Violation]:
    """`unsafe_markup` for a view (Slack accepts it, so this is not one of `check_view`'s refusals)."""
    view = _decode_blocks(view)
    blocks = view.get("blocks") if isinstance(view, dict) else None
    return [Violation("views", UNSAFE_MARKUP, p) for p in unsafe_markup(None, blocks)]


def check_message(method: str, args: dict[str, Any], need_text: bool = True) -> list[Violation]:
    """Message payload checks: text fallback, text length, blocks, metadata."""
    out: list[Violation] = []
    text = args.get("text")
    if need_text and (not isinstance(text, str) or not text.strip()):
        out.append(Violation(method, TEXT_FALLBACK, "no non-empty top-level `text` fallback"))
    if isinstance(text, str) and len(text) > 40000:
        out.append(Violation(method, BLOCK_KIT, f"text: {len(text)} chars > 40000"))
    if isinstance(text, str) and (problem := markup_problem(text)):
        out.append(Violation(method, MRKDWN, f"text: {problem}"))
    out += [Violation(method, BLOCK_KIT, p) for p in check_blocks(args.get("blocks"), "message")]
    out += [Violation(method, UNSAFE_MARKUP, p) for p in unsafe_markup(text, _decode_blocks(args.get("blocks")))]
    if "metadata" in args and args["metadata"] not in (None, ""):
        meta_problem = metadata_problem(args["metadata"])
        if meta_problem:
            out.append(Violation(method, METADATA, meta_problem))
    return out


def _decode_blocks(blocks: Any) -> Any:
    """Blocks arrive as a list (JSON bodies) or a JSON string (form bodies)."""
    if isinstance(blocks, str):
        try:
            return json.loads(blocks)
        except ValueError:
            return None
    return blocks


def _decode(metadata: Any) -> Any:
    """Metadata arrives as an object (JSON bodies) or a JSON string (form bodies)."""
    if isinstance(metadata, str):
        try:
            return json.loads(metadata)
        except ValueError:
            raise ValueError("metadata is not valid JSON") from None
    return metadata


def metadata_type_problem(metadata: Any, allowed: frozenset[str]) -> str | None:
    try:
        metadata = _decode(metadata)
    except ValueError as exc:
        return str(exc)
    if not isinstance(metadata, dict):
        return f"no message metadata; the app's contract requires one of {sorted(allowed)}"
    if metadata.get("event_type") not in allowed:
        return f"metadata event_type {metadata.get('event_type')!r} is not one of {sorted(allowed)}"
    return None


def metadata_problem(metadata: Any) -> str | None:
    try:
        metadata = _decode(metadata)
    except ValueError as exc:
        return str(exc)
    if not isinstance(metadata, dict):
        return "metadata must be an object"
    if not isinstance(metadata.get("event_type"), str) or not metadata["event_type"]:
        return "metadata.event_type must be a non-empty string"
    if not isinstance(metadata.get("event_payload"), dict):
        return "metadata.event_payload must be an object"
    return None
