"""Block Kit for `/checkin health`, its modal, the App Home meter and the admin aggregates.

Bars come from `coaching.warnings_text.bar`: each fills up to the signal's line, for every signal
(feedback, where higher is better, shows the unacknowledged share), so "full" always means "at the
line". The 8-week trend is one small bar per week, oldest first. Big teams are paged.
"""

from __future__ import annotations

import math

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from coaching.drift import LOWER_IS_WORSE, SIGNALS, DriftState, Signal, SignalReading
from coaching.health_chart import HealthChart, figure, line_text, over_now, title
from coaching.warnings_text import FULL_BLOCK, bar, good_looks_like
from handlers.render.guard import SHOW_HEALTH
from handlers.render.summary import name_of
from handlers.text import escape, fit, mention
from scheduling.warnings import OrgStates, RepHealth

HEALTH_PREV, HEALTH_NEXT = "guard_health_prev", "guard_health_next"
REPS_PER_PAGE = 12  # ~17 blocks a page: well inside a message's 50 and a modal's 100
HOME_REPS = 6
NAMES: dict[Signal, str] = {"frequency": "Frequency", "tone": "Tone", "coverage": "Coverage",
                            "feedback": "Feedback", "fatigue": "Fatigue", "contact_gap": "Contact gap"}
ICONS: dict[DriftState, str] = {"healthy": ":large_green_circle:", "watch": ":large_yellow_circle:",
                                "drifting": ":red_circle:"}
_ORDER: dict[DriftState, int] = {"drifting": 0, "watch": 1, "healthy": 2}
_LEVELS = "▁▂▃▄▅▆▇█"


def _towards_line(signal: Signal, value: float, threshold: float) -> tuple[float, float]:
    if signal in LOWER_IS_WORSE:
        return 1.0 - value, 1.0 - threshold
    return value, threshold


def _pct(share: float) -> str:
    return f"{round(share * 100)}%"


def describe_value(reading: SignalReading) -> str:
    v, t = reading.value, reading.threshold
    if reading.signal == "frequency":
        return f"{int(v)} in 7 days (line {int(t)})"
    if reading.signal == "contact_gap":
        return f"{math.floor(v)} days (line {int(t)})"
    if reading.signal == "feedback":
        return f"{_pct(v)} acknowledged (line {_pct(t)})"
    return f"{_pct(v)} (line {_pct(t)})"


def trend(signal: Signal, values: list[float], threshold: float) -> str:
    """One character per week: the height of that week's bar against the line."""
    return "".join(_LEVELS[bar(*_towards_line(signal, v, threshold), width=len(_LEVELS) - 1).count(FULL_BLOCK)]
                   for v in values)


def rep_lines(item: RepHealth) -> str:
    breached = [r for r in item.readings.values() if r.breached]
    head = f"{ICONS[item.state]} *{mention(item.rep)}* · {item.state}"
    if breached:
        head += f" ({len(breached)} over the line)"
    if item.paused:
        head += " · check-ins paused"
    lines = [head]
    for signal in SIGNALS:
        reading = item.readings[signal]
        meter = bar(*_towards_line(signal, reading.value, reading.threshold))
        line = f"`{NAMES[signal]:<11}` {meter} {describe_value(reading)}{' ⚠️' if reading.breached else ''}"
        if item.trend.get(signal):
            line += f"  ·  8 wk {trend(signal, item.trend[signal], reading.threshold)}"
        lines.append(line)
        if reading.breached:
            lines.append(f"      _{escape(reading.observed)}_")
    return "\n".join(lines)


def _reps(n: int) -> str:
    return f"{n} rep" if n == 1 else f"{n} reps"


def _counts(items: list[RepHealth]) -> str:
    n = {state: sum(1 for i in items if i.state == state) for state in ICONS}
    return " · ".join(f"{ICONS[s]} {s} {n[s]}" for s in ("healthy", "watch", "drifting"))


def good_section() -> SectionBlock:
    lines = "\n".join(f"• *{NAMES[s]}*: {escape(good_looks_like(s))}" for s in SIGNALS)
    return SectionBlock(text=MarkdownTextObject(text=f"*What good looks like*\n{lines}"))


def health_blocks(items: list[RepHealth], page: int = 0) -> tuple[str, list[Block]]:
    """The manager's own report: every signal against its line, per rep, with the 8-week trend."""
    if not items:
        return "You have no reps yet.", [SectionBlock(text=MarkdownTextObject(
            text="You have no reps yet, so there is nothing to report. `/checkin team add @rep` adds one."))]
    ordered = sorted(items, key=lambda i: (_ORDER[i.state], i.rep))
    pages = max(1, math.ceil(len(ordered) / REPS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    attention = sum(1 for i in items if i.state != "healthy")
    text = f"Your check-in health: {attention} of {_reps(len(items))} need{'s' if attention == 1 else ''} attention."
    blocks: list[Block] = [
        HeaderBlock(text="Your check-in health"),
        SectionBlock(text=MarkdownTextObject(
            text=f"{_reps(len(items))}: {_counts(items)}\nEach bar fills up to its line; ⚠️ marks a signal "
                 "over it. The 8-week trend runs oldest to newest.")),
    ]
    for item in ordered[page * REPS_PER_PAGE:(page + 1) * REPS_PER_PAGE]:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=rep_lines(item))))
    if pages > 1:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"Page {page + 1} of {pages}")]))
        nav = []
        if page > 0:
            nav.append(ButtonElement(text="Previous", action_id=HEALTH_PREV, value=str(page - 1)))
        if page < pages - 1:
            nav.append(ButtonElement(text="Next", action_id=HEALTH_NEXT, value=str(page + 1)))
        blocks.append(ActionsBlock(block_id="guard_health_nav", elements=nav))
    blocks.append(good_section())
    return text, blocks


def _managers(n: int) -> str:
    return f"{n} manager" if n == 1 else f"{n} managers"


def admin_blocks(org: OrgStates) -> tuple[str, list[Block]]:
    """Counts only: how many managers are in each state, never who, never what was said."""
    m = org.managers
    text = (f"Across {_managers(org.total)}: {m['healthy']} healthy, {m['watch']} watch, "
            f"{m['drifting']} drifting.")
    per_signal = " · ".join(f"{NAMES[s]} {org.by_signal.get(s, 0)}" for s in SIGNALS)
    return text, [
        HeaderBlock(text="Check-in health across the organisation"),
        SectionBlock(text=MarkdownTextObject(
            text=f"*{_managers(org.total)} with reps*\n{ICONS['healthy']} healthy {m['healthy']} · "
                 f"{ICONS['watch']} watch {m['watch']} · {ICONS['drifting']} drifting {m['drifting']}")),
        SectionBlock(text=MarkdownTextObject(
            text=f"*Managers with at least one rep over each line*\n{per_signal}")),
        ContextBlock(elements=[MarkdownTextObject(
            text="Aggregates only: no names, no questions, no answers. Healthy = no signal over its line, "
                 "watch = one, drifting = two or more (a manager counts as their most drifted rep).")]),
    ]


def health_modal(blocks: list[Block]) -> View:
    return View(type="modal", callback_id="guard_health", title="Check-in health", close="Close",
                blocks=blocks[:100])


# Opened at once with the click's trigger_id (it lives 3 seconds), then updated with the report.
PREPARING = "Putting the report together…"


def loading_modal() -> View:
    return health_modal([SectionBlock(text=MarkdownTextObject(text=f":hourglass_flowing_sand: {PREPARING}"))])


def notice_modal(text: str) -> View:
    return health_modal([SectionBlock(text=MarkdownTextObject(text=text))])


def home_manager_section(items: list[RepHealth]) -> list[Block]:
    """A short meter for App Home: the counts, the reps that need attention, and the full report."""
    if not items:
        return []
    needs = sorted((i for i in items if i.state != "healthy"), key=lambda i: (_ORDER[i.state], i.rep))
    lines = [f"{_reps(len(items))}: {_counts(items)}"]
    for item in needs[:HOME_REPS]:
        over = ", ".join(NAMES[r.signal].lower() for r in item.readings.values() if r.breached)
        lines.append(f"{ICONS[item.state]} {mention(item.rep)}: {over}")
    if len(needs) > HOME_REPS:
        lines.append(f"…and {len(needs) - HOME_REPS} more")
    return [
        HeaderBlock(text="Your check-in health"),
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
        ActionsBlock(block_id="guard_home_actions", elements=[
            ButtonElement(text="Open the full report", action_id=SHOW_HEALTH, value="home")]),
    ]


def home_admin_section(org: OrgStates) -> list[Block]:
    m = org.managers
    return [
        HeaderBlock(text="Manager health, organisation-wide"),
        SectionBlock(text=MarkdownTextObject(
            text=f"{_managers(org.total)}: {ICONS['healthy']} healthy {m['healthy']} · {ICONS['watch']} watch "
                 f"{m['watch']} · {ICONS['drifting']} drifting {m['drifting']}\n_Aggregates only, never names._")),
    ]


def chart_words(chart: HealthChart, names: dict[str, str]) -> tuple[str, list[Block]]:
    """The trend chart's message: its headline, and the same trends as text bars (the fallback
    when Slack won't show the picture)."""
    head = f"{title(chart)}: {over_now(chart)} of {_reps(len(chart.reps))} past a line now."
    lines = []
    for rep in chart.reps:
        rows = [f"*{name_of(names.get(rep, rep))}*"]
        for series in chart.signals:
            values = series.values.get(rep)
            if values:
                rows.append(f"`{NAMES[series.signal]:<11}` {trend(series.signal, list(values), series.threshold)}"
                            f" now {figure(series, values[-1])} ({line_text(series)})")
        lines.append("\n".join(rows))
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=escape(head)))]
    blocks += [SectionBlock(text=MarkdownTextObject(text=fit(text))) for text in lines[:REPS_PER_PAGE * 3]]
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="One bar per week, oldest first; each fills up to its signal's line.")]))
    return head, blocks[:50]
