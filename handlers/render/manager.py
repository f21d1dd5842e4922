"""Block Kit for the manager features: answers passed on, notes and thanks, digests, team
invitations, cadence proposals and the forget confirmation.

All user text (answers, goals, notes, names) goes through `safe`/`goal` (escaped and capped) so
`<!channel>`, `<@U…>` and `<https://…|…>` show literally. People are named in plain text rather
than mentioned, so nothing here can ping anyone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from coaching.summary import AnswerFact, TeamSummary
from handlers.render import message, metadata
from handlers.render.help import help_blocks
from handlers.render.summary import fit, goal, leave_status, name_of, safe, team_section
from handlers.text import slack_time

ANSWER_REPLY, ANSWER_THANKS = "answer_reply", "answer_thanks"
NOTE_CALLBACK, NOTE_BLOCK, NOTE_INPUT = "coaching_note_submit", "note", "note_text"
TEAM_ACCEPT, TEAM_DECLINE = "team_join_accept", "team_join_decline"
CADENCE_ACCEPT, CADENCE_DECLINE = "cadence_accept", "cadence_decline"  # CONTRACT §4
FORGET_CONFIRM, FORGET_CANCEL = "forget_confirm", "forget_cancel"
SUMMARY_CSV = "summary_csv"  # App Home: the team's check-ins as a CSV file in the manager's DM
MAX_NOTE_CHARS = 2000
ANSWER_CHARS = 2400
DIGEST_ANSWERS = 20  # 2 blocks each plus a header and a footer: within 50 blocks


@dataclass(frozen=True)
class RelayedAnswer:
    answer_id: int
    checkin_id: int
    rep_id: str
    rep_name: str
    goal_id: int | None
    goal_text: str | None
    question: str | None  # mrkdwn, as the rep saw it (goal already escaped)
    text: str
    confidence: int | None
    help_wanted: bool


def quoted(text: str, limit: int) -> str:
    """User text as a mrkdwn quote, line breaks kept, escaped and capped."""
    lines = [safe(line, limit) for line in text.strip().splitlines() if line.strip()] or [""]
    out, used = [], 0
    for line in lines:
        if used + len(line) > limit:
            out.append("…")
            break
        out.append("> " + line)
        used += len(line) + 3
    return "\n".join(out)


def answer_buttons(answer_id: int) -> ActionsBlock:
    value = str(answer_id)
    return ActionsBlock(block_id=f"answer_actions_{answer_id}", elements=[
        ButtonElement(text="Reply with a note", action_id=ANSWER_REPLY, value=value, style="primary"),
        ButtonElement(text="Thanks", action_id=ANSWER_THANKS, value=value),
    ])


def _answer_body(item: RelayedAnswer, limit: int) -> str:
    parts = []
    if item.goal_text:
        parts.append(f"Goal: {goal(item.goal_text)}")
    parts.append(quoted(item.text, limit))
    extras = []
    if item.confidence is not None:
        extras.append(f"confidence {item.confidence}/5")
    if item.help_wanted:
        extras.append(":raising_hand: would like help with this")
    if extras:
        parts.append("_" + " · ".join(extras) + "_")
    return fit("\n".join(parts))


def answer_blocks(item: RelayedAnswer, handled: str | None = None) -> list[Block]:
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(
        text=f"*{name_of(item.rep_name)}* answered a check-in"))]
    if item.question:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=fit(item.question, 2000))]))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=_answer_body(item, ANSWER_CHARS))))
    if handled:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=handled)]))
    else:
        blocks.append(answer_buttons(item.answer_id))
    return blocks


def answer_text(item: RelayedAnswer) -> str:
    return f"{name_of(item.rep_name)} answered a check-in: {safe(item.text, 200)}"


def answer_message(item: RelayedAnswer, manager_id: str, channel: str) -> dict[str, Any]:
    """An answer passed on to one manager (`checkin_answer`)."""
    return message(channel, answer_text(item), answer_blocks(item),
                   metadata("checkin_answer", checkin_id=item.checkin_id, rep=item.rep_id, manager=manager_id,
                            goal_id=item.goal_id, answer_id=item.answer_id))


def deleted_answer_blocks(rep_name: str) -> tuple[str, list[Block]]:
    text = f"{name_of(rep_name)} deleted this check-in answer."
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]


def digest_message(manager_id: str, channel: str, items: list[RelayedAnswer], label: str) -> dict[str, Any]:
    """The daily or weekly `team_digest`: each answer with its own Reply and Thanks buttons."""
    shown = items[:DIGEST_ANSWERS]
    blocks: list[Block] = [HeaderBlock(text=f"Check-in answers from your team, {label}"[:150])]
    for item in shown:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text=fit(f"*{name_of(item.rep_name)}*\n" + _answer_body(item, 900)))))
        blocks.append(answer_buttons(item.answer_id))
    more = len(items) - len(shown)
    footer = f"{more} more in `/checkin summary`." if more > 0 else "Reply or say thanks whenever suits you."
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    names = ", ".join(dict.fromkeys(name_of(i.rep_name) for i in items))
    text = fit(f"{len(items)} check-in answer{'s' if len(items) != 1 else ''} from your team ({label}): {names}", 1000)
    return message(channel, text, blocks,
                   metadata("team_digest", manager=manager_id, answers=len(items)))


def note_modal(answer_id: int, rep_name: str, answer: str) -> View:
    return View(type="modal", callback_id=NOTE_CALLBACK, title="Coaching note", submit="Send", close="Cancel",
                private_metadata=str(answer_id), blocks=[
                    SectionBlock(text=MarkdownTextObject(
                        text=fit(f"Your note goes to *{name_of(rep_name)}* as a direct message.\n"
                                 + quoted(answer, 1200)))),
                    InputBlock(block_id=NOTE_BLOCK, label="Your note",
                               element=PlainTextInputElement(action_id=NOTE_INPUT, multiline=True,
                                                             max_length=MAX_NOTE_CHARS)),
                ])


def read_note(values: dict[str, Any]) -> str:
    return str(((values.get(NOTE_BLOCK) or {}).get(NOTE_INPUT) or {}).get("value") or "").strip()


def note_to_rep(rep_id: str, manager_id: str, manager_name: str, checkin_id: int | None, goal_id: int | None,
                goal_text: str | None, note: str) -> dict[str, Any]:
    head = f"*{name_of(manager_name)}* sent you a note about your check-in"
    head += f" on {goal(goal_text)}:" if goal_text else ":"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=fit(head + "\n" + quoted(note, 2400))))]
    return message(rep_id, f"A note from {name_of(manager_name)}: {safe(note, 200)}", blocks,
                   metadata("coaching_note", checkin_id=checkin_id, rep=rep_id, manager=manager_id, goal_id=goal_id))


def thanks_to_rep(rep_id: str, manager_id: str, manager_name: str, checkin_id: int | None,
                  goal_id: int | None) -> dict[str, Any]:
    text = f"{name_of(manager_name)} read your check-in answer and says thanks."
    return message(rep_id, text, [SectionBlock(text=MarkdownTextObject(text=f":pray: {text}"))],
                   metadata("coaching_note", checkin_id=checkin_id, rep=rep_id, manager=manager_id, goal_id=goal_id))


def team_invite(rep_id: str, manager_id: str, manager_name: str, membership_id: int) -> dict[str, Any]:
    who = name_of(manager_name)
    text = (f"{who} would like to add you to their team in Check-in Coach. If you confirm, they will see "
            "your check-in answers and summaries; nothing is shared until you do.")
    value = str(membership_id)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(block_id=f"team_invite_{membership_id}", elements=[
            ButtonElement(text="Confirm", action_id=TEAM_ACCEPT, value=value, style="primary"),
            ButtonElement(text="Not now", action_id=TEAM_DECLINE, value=value),
        ]),
    ]
    return message(rep_id, text, blocks, metadata("manager_question", rep=rep_id, manager=manager_id))


def to_manager(manager_id: str, rep_id: str, event_type: str, text: str, **ids: object) -> dict[str, Any]:
    """A short notice to a manager (the rep's decision on an invitation or a cadence)."""
    return message(manager_id, text, [SectionBlock(text=MarkdownTextObject(text=text))],
                   metadata(event_type, rep=rep_id, manager=manager_id, **ids))


def cadence_proposal(rep_id: str, manager_id: str, manager_name: str, agreement_id: int, proposed: str,
                     current: str) -> dict[str, Any]:
    text = f"{name_of(manager_name)} proposes a new check-in rhythm: {proposed}. It only changes if you accept."
    value = str(agreement_id)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"{text}\n_Currently: {current}._")),
        ActionsBlock(block_id=f"cadence_{agreement_id}", elements=[
            ButtonElement(text="Accept", action_id=CADENCE_ACCEPT, value=value, style="primary"),
            ButtonElement(text="Keep the current one", action_id=CADENCE_DECLINE, value=value),
        ]),
    ]
    return message(rep_id, text, blocks, metadata("cadence_proposal", rep=rep_id, manager=manager_id,
                                                  agreement_id=agreement_id))


def closed(text: str) -> list[Block]:
    return [SectionBlock(text=MarkdownTextObject(text=text))]


def forget_prompt(count: int) -> list[Block]:
    text = (f"This deletes all {count} of your check-in answers, your goals, and the notes and thanks your "
            "manager sent about them, and takes your answers out of everything I passed on to your manager "
            "(their DMs, digests, summaries and Home tab). Your check-in schedule and its record (when a "
            "check-in was sent, answered or skipped, without your words) stay, and so does your team "
            "membership. This can't be undone.")
    return [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(block_id="forget_actions", elements=[
            ButtonElement(text="Delete my answers and goals", action_id=FORGET_CONFIRM, value="forget",
                          style="danger",
                          confirm=ConfirmObject(title="Delete your answers and goals?", text="This can't be undone.",
                                                confirm="Delete", deny="Keep them")),
            ButtonElement(text="Keep them", action_id=FORGET_CANCEL, value="keep"),
        ]),
    ]


def home_blocks(team: TeamSummary, awaiting: list[AnswerFact], names: dict[str, str],
                upcoming: dict[str, dt.datetime], zone: str) -> list[Block]:
    """The manager's App Home section: participation, answers awaiting a response, next check-ins."""
    blocks: list[Block] = [HeaderBlock(text=f"Your team, last {team.weeks} weeks")]
    if not team.reps:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text="No one has confirmed joining your team yet. `/checkin team add @rep` invites someone.")))
        return blocks
    blocks += help_blocks(team.help_requests, zone)  # what most needs the manager comes first
    blocks.append(SectionBlock(text=MarkdownTextObject(text=team_section(team))))
    if awaiting:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="*Latest answers awaiting your thanks or a note*")))
    for answer in awaiting:
        head = f"*{name_of(names.get(answer.rep_id, answer.rep_id))}* · {slack_time(answer.created_at, zone)}"
        if answer.goal_text:
            head += f"\nGoal: {goal(answer.goal_text, 400)}"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit(head + "\n" + quoted(answer.text, 600)))))
        blocks.append(answer_buttons(answer.id))
    away = [f"• {name_of(r.name)}{leave_status(r)}" for r in team.reps if leave_status(r)]
    if away:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit("*Time off*\n" + "\n".join(away[:25])))))
    if upcoming:
        lines = [f"• {name_of(names.get(rep, rep))}: {slack_time(when, zone)}"
                 for rep, when in sorted(upcoming.items(), key=lambda item: item[1])]
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit("*Next check-ins*\n" + "\n".join(lines[:25])))))
    blocks.append(ActionsBlock(block_id="manager_home_csv", elements=[ButtonElement(
        text=f"Check-ins as CSV (last {team.weeks} weeks)", action_id=SUMMARY_CSV, value=str(team.weeks))]))
    return blocks
