"""The demo's transcript: Block Kit rendered to text, and three writers (Rich, plain text, JSON lines).

Everything the bot posts is shown as a person would see it in Slack: sections, fields and context
as text, buttons as `[Answer] [Skip this one]`, times in the recipient's own zone.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any
from zoneinfo import ZoneInfo

# (style, text): style is one of text | quote | context | buttons | header | divider | input
Line = tuple[str, str]

EMOJI = {
    "white_check_mark": "✅", "large_green_circle": "🟢", "large_yellow_circle": "🟡", "red_circle": "🔴",
    "warning": "⚠️", "wave": "👋", "tada": "🎉", "calendar": "📅", "bulb": "💡", "seedling": "🌱",
    "raised_hands": "🙌", "pray": "🙏", "clock3": "🕒", "hourglass": "⏳", "memo": "📝", "speech_balloon": "💬",
    "thumbsup": "👍", "+1": "👍", "heart": "❤️", "sparkles": "✨", "mag": "🔍", "lock": "🔒", "bar_chart": "📊",
    "chart_with_upwards_trend": "📈", "spiral_calendar_pad": "🗓️", "zzz": "💤", "pause_button": "⏸️",
    "raising_hand": "🙋",
}
_TOKEN = re.compile(r"<([^<>]+)>")
_EMOJI = re.compile(r":([a-z0-9_+\-]+):")
# Inline mrkdwn: *bold*, _italic_, `code` (Slack's rules, simplified).
_INLINE = re.compile(r"(?P<code>`[^`\n]+`)|(?<![\w*])\*(?P<bold>[^*\n]+)\*(?![\w*])|(?<![\w_])_(?P<it>[^_\n]+)_(?![\w_])")


def unslack(text: str, names: Mapping[str, str]) -> str:
    """mrkdwn entities to what Slack shows: mentions as @Name, links as their label, emoji as emoji."""

    def token(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            return "@" + names.get(target[1:], label or target[1:])
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^")[0])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        return f"{label} ({target})" if label and label != target else target

    out = _TOKEN.sub(token, text)
    out = _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), out)
    return out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def strip_inline(text: str) -> str:
    """Plain text: bold and italic markers dropped (code spans keep their backticks)."""
    return _INLINE.sub(lambda m: m.group("code") or m.group("bold") or m.group("it") or "", text)


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text") or "")
    return str(obj or "")


def _rich_text(node: Any) -> str:
    if isinstance(node, dict):
        if node.get("type") == "text":
            return str(node.get("text") or "")
        if node.get("type") == "user":
            return "@" + str(node.get("user_id"))
        return "".join(_rich_text(n) for n in node.get("elements") or [])
    if isinstance(node, list):
        return "".join(_rich_text(n) for n in node)
    return ""


def element_label(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[{_text_of(element.get('text'))}]"
    if kind in ("static_select", "external_select", "users_select", "conversations_select", "channels_select"):
        chosen = element.get("initial_option") or {}
        return f"[{_text_of(chosen.get('text')) or _text_of(element.get('placeholder')) or 'Choose'} ▾]"
    if kind == "overflow":
        return "[⋯]"
    if kind in ("datepicker", "timepicker"):
        return f"[{element.get('initial_date') or element.get('initial_time') or 'pick'} ▾]"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind in ("mrkdwn", "plain_text"):
        return _text_of(element)
    return f"[{kind}]"


def _input_line(block: dict[str, Any]) -> str:
    label = _text_of(block.get("label"))
    element = block.get("element") or {}
    kind = element.get("type")
    if kind == "plain_text_input":
        value = element.get("initial_value") or ""
        return f"{label}: [{value or '_' * 24}]"
    if kind == "checkboxes":
        boxes = " ".join(f"☐ {_text_of(o.get('text'))}" for o in element.get("options") or [])
        return f"{label}: {boxes}"
    if kind in ("radio_buttons",):
        return f"{label}: " + " ".join(f"○ {_text_of(o.get('text'))}" for o in element.get("options") or [])
    return f"{label}: {element_label(element)}"


def render_blocks(blocks: Any, fallback: str, names: Mapping[str, str]) -> list[Line]:
    """Block Kit as lines of text; the top-level `text` when there are no blocks."""
    lines: list[Line] = []

    def add_text(text: str, style: str = "text") -> None:
        for raw in unslack(text, names).split("\n"):
            if raw.startswith("> ") or raw == ">":
                lines.append(("quote", "│ " + raw[2:]))
            else:
                lines.append((style, raw))

    if not isinstance(blocks, list) or not blocks:
        add_text(fallback)
        return lines
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "section":
            if block.get("text"):
                add_text(_text_of(block.get("text")))
            for item in block.get("fields") or []:
                add_text("▪ " + _text_of(item))
            if isinstance(block.get("accessory"), dict):
                lines.append(("buttons", element_label(block["accessory"])))
        elif kind == "header":
            lines.append(("header", unslack(_text_of(block.get("text")), names)))
        elif kind == "context":
            parts = [unslack(element_label(e), names) for e in block.get("elements") or [] if isinstance(e, dict)]
            for part in " · ".join(parts).split("\n"):
                lines.append(("context", part))
        elif kind == "actions":
            labels = [element_label(e) for e in block.get("elements") or [] if isinstance(e, dict)]
            lines.append(("buttons", " ".join(labels)))
        elif kind == "divider":
            lines.append(("divider", "─" * 32))
        elif kind == "input":
            lines.append(("input", unslack(_input_line(block), names)))
        elif kind == "rich_text":
            add_text(_rich_text(block))
        elif kind == "image":
            lines.append(("context", f"[image: {block.get('alt_text', '')}]"))
    return lines


def local_stamp(at: dt.datetime, zone: str, with_day: bool = True) -> str:
    local = at.astimezone(ZoneInfo(zone))
    day = f"{local:%a} {local.day} {local:%b} " if with_day else ""
    return f"{day}{local:%H:%M} {local.tzname()}"


@dataclass
class Event:
    """One thing that happened, as the transcript shows it (and as one JSON line)."""

    kind: str  # day | narration | slash | reply | dm | update | reaction | click | modal | submit | say | check
    at: dt.datetime
    who: str | None = None  # the person who sees it (bot output) or acts (their input)
    name: str | None = None
    local: str | None = None  # the time in `who`'s zone
    title: str = ""
    lines: list[Line] = field(default_factory=list)
    event_type: str | None = None  # Slack message metadata event_type
    data: dict[str, Any] = field(default_factory=dict)
    ref: Any = field(default=None, repr=False)  # the sandbox Message/Ephemeral (not serialised)

    @property
    def text(self) -> str:
        return "\n".join(strip_inline(text) for _, text in self.lines)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "at": self.at.isoformat().replace("+00:00", "Z")}
        for key in ("who", "name", "local", "title", "event_type"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.lines:
            out["text"] = self.text
        out.update(self.data)
        return out


ICONS = {"dm": "💬", "update": "✏️ ", "reply": "👁 ", "reaction": "↳", "slash": "⌨️ ", "click": "👆",
         "modal": "🪟", "submit": "📨", "say": "🗨️ ", "narration": "»", "check": "✔"}
KIND_COLOURS = {"checkin_prompt": "cyan", "checkin_reminder": "cyan", "manager_question": "magenta",
                "checkin_answer": "green", "coaching_note": "green", "drift_warning": "red",
                "contact_gap": "yellow", "team_digest": "green", "cadence_proposal": "blue"}


class Transcript:
    """Writes events as they happen: Rich on a TTY, plain text otherwise, or JSON lines."""

    def __init__(self, out: IO[str], mode: str, speed: float = 0.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.out, self.mode, self.speed, self.sleep = out, mode, speed, sleep
        self.events: list[Event] = []
        self._day: dt.date | None = None
        self._status: Any = None
        self._console: Any = None
        self._label = ""
        self._paced: dt.date | None = None
        if mode == "rich":
            from rich.console import Console

            self._console = Console(file=out, highlight=False, soft_wrap=False)

    # ---- progress ---------------------------------------------------------------------------------
    def progress(self, at: dt.datetime, label: str) -> None:
        """The simulated date: a transient status line on a TTY; plain mode prints it with events."""
        day = at.date()
        if self._paced is not None and day > self._paced and self.speed > 0:
            self.sleep(self.speed * (day - self._paced).days)
        self._paced = day
        if self.mode == "rich":
            text = f"Simulating {at:%a %d %b %Y} · {label}"
            if self._status is None:
                self._status = self._console.status(text, spinner="dots")
                self._status.start()
            else:
                self._status.update(text)
        self._label = label

    def stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    # ---- events -----------------------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        day = event.at.date()
        if day != self._day:
            self._day = day
            header = Event("day", event.at, title=f"{event.at:%A} {event.at.day} {event.at:%B %Y} (UTC)",
                           data={"date": day.isoformat(), "week": self._label})
            self._write(header)
        self._write(event)

    def _write(self, event: Event) -> None:
        self.events.append(event)
        if self.mode == "json":
            self.out.write(json.dumps(event.to_json(), ensure_ascii=False) + "\n")
            self.out.flush()
        elif self.mode == "rich":
            self._rich(event)
        else:
            self.out.write(self._plain(event))
            self.out.flush()

    def _plain(self, event: Event) -> str:
        if event.kind == "day":
            label = event.data.get("week")
            return f"\n══ {event.title}{' · ' + label if label else ''} " + "═" * 20 + "\n"
        stamp = f"[{event.local}] " if event.local else ""
        if event.kind in ("narration", "check"):
            head = f"{ICONS[event.kind]} {event.title}"
            body = "".join(f"   {strip_inline(t)}\n" for _, t in event.lines)
            return f"{head}\n{body}"
        head = f"{stamp}{ICONS.get(event.kind, '·')} {event.title}"
        if event.event_type:
            head += f"  ({event.event_type})"
        body = "".join(f"      {strip_inline(t)}\n" for _, t in event.lines)
        return f"{head}\n{body}"

    def _rich(self, event: Event) -> None:
        from rich.console import Group
        from rich.panel import Panel
        from rich.rule import Rule
        from rich.text import Text

        console = self._console
        if event.kind == "day":
            label = event.data.get("week")
            console.print(Rule(Text(f"{event.title}{' · ' + label if label else ''}", style="bold")))
            return
        if event.kind in ("narration", "check"):
            style = "bold green" if event.kind == "check" else "bold"
            console.print(Text(f"{ICONS[event.kind]} {event.title}", style=style))
            for _, line in event.lines:
                console.print(Text("   ") + styled(line, ""))
            return
        if event.kind in ("dm", "update", "reply", "modal"):
            body = Group(*(styled(text, style) for style, text in event.lines)) if event.lines else Text("")
            colour = KIND_COLOURS.get(event.event_type or "", "blue" if event.kind != "reply" else "grey50")
            title = Text(f"{ICONS.get(event.kind, '')} ") + Text(event.title, style="bold")
            if event.event_type:
                title += Text(f"  {event.event_type}", style="dim")
            subtitle = Text(event.local or "", style="dim")
            console.print(Panel(body, title=title, title_align="left", subtitle=subtitle, subtitle_align="right",
                                border_style=colour, expand=False, width=min(console.width, 100)))
            return
        head = Text.assemble((f"{event.local}  " if event.local else "", "dim"), f"{ICONS.get(event.kind, '·')} ",
                             (event.title, "bold cyan"))
        console.print(head)
        for _, text in event.lines:
            console.print(Text("      ") + styled(text, "italic"))


def styled(text: str, style: str) -> Any:
    """A Rich Text with mrkdwn bold/italic/code applied (user text is never read as Rich markup)."""
    from rich.text import Text

    base = {"context": "dim", "quote": "italic", "buttons": "bold reverse", "header": "bold underline",
            "divider": "dim", "input": "cyan"}.get(style, style)
    if style == "buttons":
        out = Text()
        for i, label in enumerate(re.findall(r"\[[^\]]*\]", text) or [text]):
            if i:
                out.append(" ")
            out.append(f" {label[1:-1]} " if label.startswith("[") else label, style="bold black on grey82")
        return out
    out = Text(style=base)
    pos = 0
    for match in _INLINE.finditer(text):
        out.append(text[pos:match.start()])
        if match.group("code"):
            out.append(match.group("code")[1:-1], style="cyan")
        elif match.group("bold"):
            out.append(match.group("bold"), style="bold")
        else:
            out.append(match.group("it") or "", style="italic")
        pos = match.end()
    out.append(text[pos:])
    return out
