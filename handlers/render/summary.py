"""Block Kit for team summaries and admin aggregates, paginated within Slack's limits.

Limits (https://api.slack.com/reference/block-kit/blocks): 50 blocks per message, 3000
characters per section text, 150 per header. Each rep is one section whose text is capped after
escaping, and pages are cut by `coaching.summary.paginate`, so no team size breaks a message.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from coaching.summary import OrgAggregates, RepSummary, TeamSummary, paginate, percent
from handlers.render.help import help_blocks
from handlers.render.leave import leave_line
from handlers.text import fit, safe

ROWS_PER_PAGE = 40  # plus a header, the team section, a divider and a footer: well under 50 blocks
# Open requests for help listed (with their buttons) on page 1: with 40 rows, still 50 blocks at most.
HELP_SHOWN = 4
CHARS_PER_PAGE = 20000
FALLBACK_CHARS = 2500
NAME_CHARS = 60
EXCERPT_CHARS = 240


@dataclass(frozen=True)
class Page:
    text: str  # the plain-text fallback
    blocks: list[Block]


def goal(text: str, limit: int = 600) -> str:
    """A goal in bold, like `quote_goal`, but capped (escaping can grow it up to fivefold)."""
    return "*" + safe(text, limit).replace("*", "∗") + "*"


def name_of(name: str) -> str:
    return safe(name, NAME_CHARS)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def contact_text(days: int | None) -> str:
    if days is None:
        return "no check-in sent yet"
    if days == 0:
        return "today"
    return f"{_count(days, 'day')} ago"


def confidence_text(row: RepSummary) -> str | None:
    if not row.confidences:
        return None
    values = " → ".join(str(v) for v in row.confidences)
    return f"Confidence (1–5): {values}" + (f" ({row.trend})" if row.trend else "")


def leave_status(row: RepSummary) -> str:
    if row.leave_until is not None:
        return f" · _{leave_line(row.leave_until)}_"
    if row.leave_booked is not None:
        return f" · _leave booked {row.leave_booked[0].isoformat()} to {row.leave_booked[1].isoformat()}_"
    return ""


def rep_row(row: RepSummary) -> str:
    status = " · _paused for now_" if row.paused_now else ""
    status += leave_status(row)
    lines = [f"*{name_of(row.name)}*{status}",
             f"{_count(row.sent, 'check-in')} sent · {row.answered} answered · {row.skipped} skipped · "
             f"{row.paused} paused"]
    if row.goal_text:
        lines.append(f"Focus: {goal(row.goal_text)}")
    if row.latest_answer:
        lines.append("> " + safe(row.latest_answer, EXCERPT_CHARS))
    confidence = confidence_text(row)
    if confidence:
        lines.append(confidence)
    if row.help_open:
        lines.append(f":raising_hand: {_count(row.help_open, 'open request')} for help")
    lines.append(f"Last contact: {contact_text(row.days_since_contact)}")
    return fit("\n".join(lines))


def team_section(team: TeamSummary) -> str:
    pace = (f"*Your touches:* {team.touches_per_rep_per_week:.1f} per rep per week "
            f"(agreed cadence: {team.agreed_per_rep_per_week:.1f})")
    responses = (f"*Your responses:* thanked {team.acknowledged} and replied to {team.replied} "
                 f"of {_count(team.answers, 'answer')}")
    lines = [f"*Participation:* {percent(team.participation)} ({team.answered} of "
             f"{_count(team.sent, 'check-in')} answered) across {_count(len(team.reps), 'rep')}",
             pace, responses]
    if team.help_open:
        lines.append(f"*Open requests for help:* {team.help_open}")
    return "\n".join(lines)


def _fallback(team: TeamSummary, rows: tuple[RepSummary, ...], page: int, pages: int) -> str:
    head = (f"Team summary, last {_count(team.weeks, 'week')}: participation {percent(team.participation)}, "
            f"{_count(len(team.reps), 'rep')}" + (f" (page {page} of {pages})" if pages > 1 else ""))
    lines = [head]
    used = len(head)
    for row in rows:
        line = f"{name_of(row.name)}: {row.sent} sent, {row.answered} answered"
        if used + len(line) + 1 > FALLBACK_CHARS:
            lines.append("…")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def rep_block_id(rep_id: str) -> str:
    return f"summary_rep_{rep_id}"


def summary_pages(team: TeamSummary, title: str, zone: str = "UTC") -> list[Page]:
    """The summary as one or more messages; the first carries the team header, then any open
    requests for help (so they are the first thing a manager reads), in the manager's `zone`."""
    rendered = [rep_row(r) for r in team.reps]
    ranges = paginate([len(r) for r in rendered], ROWS_PER_PAGE, CHARS_PER_PAGE)
    pages: list[Page] = []
    for number, (start, end) in enumerate(ranges, 1):
        blocks: list[Block] = []
        if number == 1:
            blocks += [HeaderBlock(text=title[:150]), *help_blocks(team.help_requests, zone, HELP_SHOWN),
                       SectionBlock(text=MarkdownTextObject(text=team_section(team))), DividerBlock()]
        # Each rep's row is marked, so `/checkin forget` can take one rep out of a page already posted.
        blocks += [SectionBlock(text=MarkdownTextObject(text=text), block_id=rep_block_id(r.rep_id))
                   for text, r in zip(rendered[start:end], team.reps[start:end], strict=True)]
        if not rendered and number == 1:
            blocks.append(SectionBlock(text=MarkdownTextObject(text="No reps to show yet.")))
        footer = "Counts cover check-ins sent, answered, skipped or paused; skipping and pausing are always fine."
        if len(ranges) > 1:
            footer = f"Page {number} of {len(ranges)}. " + footer
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
        pages.append(Page(_fallback(team, team.reps[start:end], number, len(ranges)), blocks))
    return pages


def org_page(org: OrgAggregates) -> Page:
    """Admins see org-wide participation only: no names, no answers."""
    text = (f"*Participation:* {percent(org.participation)} ({org.answered} of "
            f"{_count(org.sent, 'check-in')} answered)\n"
            f"*Skipped:* {org.skipped} · *Paused:* {org.paused}\n"
            f"*Reps enrolled:* {org.reps} · *Teams:* {org.teams}")
    blocks: list[Block] = [
        HeaderBlock(text=f"Organisation check-ins, last {_count(org.weeks, 'week')}"),
        SectionBlock(text=MarkdownTextObject(text=text)),
        ContextBlock(elements=[MarkdownTextObject(
            text="Admins see aggregates only; individual answers stay between each rep and their manager.")]),
    ]
    fallback = (f"Organisation check-ins, last {_count(org.weeks, 'week')}: participation "
                f"{percent(org.participation)}, {org.answered} of {org.sent} answered, {org.reps} reps")
    return Page(fallback, blocks)


def org_home_blocks(org: OrgAggregates) -> list[Block]:
    """The admin's App Home section: the same org-wide aggregates as `/checkin summary`."""
    return org_page(org).blocks
