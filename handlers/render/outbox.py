"""Turning outbox rows into Slack messages: one renderer per kind of message.

Rows hold their message as data (ids and a few words); the renderer reads what it needs from the
database at send time, so a message waiting for its recipient's morning shows what is true then,
and one whose subject is gone (an answer forgotten, an invitation withdrawn) is not sent at all.
Check-in prompts and manager questions are rendered in batches by `handlers.delivery_checkins`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.metadata import Metadata
from sqlalchemy import select
from sqlalchemy.orm import Session

from coaching.drift_model import SignalReading
from coaching.health_chart import alt_text, from_payload, title
from coaching.summary import HelpFact
from coaching.summary_csv import to_csv
from handlers.render import help as help_view
from handlers.render import manager as render
from handlers.render import message as compose
from handlers.render import metadata
from handlers.render.chart import chart_png
from handlers.render.checkin import ANSWER, checkin_prompt, closed_blocks, plain_prompt, prompt_text, reminder
from handlers.render.guard import warning_dm
from handlers.render.guard_health import chart_words
from handlers.render.help import nudge_message
from handlers.render.replies import note_reply, reply_now
from handlers.render.summary import name_of
from handlers.text import escape, local_time
from storage.conversation import request_of
from storage.goals import active_goals, own_goal
from storage.models import (
    Answer,
    CadenceAgreement,
    CheckIn,
    CheckInState,
    CoachingNote,
    Goal,
    HelpRequest,
    HelpState,
    Membership,
    OutboxKind,
    OutboxMessage,
    StepState,
)
from storage.outbox import Claimed
from storage.people import reps_of_manager
from storage.summary import checkin_rows, names_of, zones_of

Message = dict[str, Any]
# None: the message's subject is gone, so the row is cancelled rather than sent.
Renderer = Callable[[Session, Claimed], Message | None]

# The contract's metadata event type of each kind (CONTRACT §4). Crash recovery looks for a lost
# post by this type and the row's `outbox_id`.
EVENT_TYPES: Mapping[OutboxKind, str] = {
    OutboxKind.CHECKIN_PROMPT: "checkin_prompt",
    OutboxKind.CHECKIN_NOW: "checkin_prompt",
    OutboxKind.CHECKIN_REMINDER: "checkin_reminder",
    OutboxKind.MANAGER_QUESTION: "manager_question",
    OutboxKind.ANSWER_RELAY: "checkin_answer",
    OutboxKind.COACHING_NOTE: "coaching_note",
    OutboxKind.THANKS: "coaching_note",
    OutboxKind.CADENCE_PROPOSAL: "cadence_proposal",
    OutboxKind.CADENCE_OUTCOME: "cadence_proposal",
    # The contract has no event type for invitations; they are closest to a manager's question.
    OutboxKind.TEAM_INVITE: "manager_question",
    OutboxKind.INVITE_OUTCOME: "manager_question",
    OutboxKind.DRIFT_WARNING: "drift_warning",
    OutboxKind.CONTACT_GAP: "contact_gap",
    OutboxKind.TEAM_DIGEST: "team_digest",
    OutboxKind.SUMMARY_PAGE: "team_digest",
    OutboxKind.NOTE_REPLY: "coaching_note",
    OutboxKind.RELAY_REFRESH: "checkin_answer",  # an update of the `checkin_answer` message itself
    # An edit carries no metadata of its own; recovery looks for this type and finds nothing, so a
    # retraction whose reply was lost is simply done again (an edit is safe to repeat).
    OutboxKind.RETRACT: "checkin_answer",
    # The health report's chart and the CSV are reports on the manager's team, like summary pages
    # (a drift_warning is a warning the manager didn't ask for).
    OutboxKind.HEALTH_CHART: "team_digest",
    OutboxKind.SUMMARY_CSV: "team_digest",
    # A gentle reminder, to the manager, of a help request on a check-in (not a second relay).
    OutboxKind.HELP_NUDGE: "checkin_reminder",
    # Also an edit without metadata of its own (the check-in DM keeps its `checkin_prompt` metadata):
    # a lost reply is simply done again.
    OutboxKind.CHECKIN_CLOSED: "checkin_prompt",
    OutboxKind.CHECKIN_REFRESH: "checkin_prompt",
}
HEALTH_CHART_FILENAME = "checkin-health.png"


def stamp(message: Message, outbox_id: int) -> Message:
    """Put the row's id into the message metadata: how recovery recognises the post later.

    The metadata goes out as a plain dict (what Slack receives either way), which spares
    slack_sdk re-validating a Metadata object on every one of thousands of posts.
    """
    meta = message.get("metadata")
    if meta is None:  # an edit of a message already posted keeps that message's metadata
        return message
    if isinstance(meta, Metadata):
        event_type, payload = meta.event_type, meta.event_payload or {}
    else:
        event_type, payload = meta["event_type"], meta.get("event_payload") or {}
    return {**message, "metadata": {"event_type": event_type, "event_payload": {**payload, "outbox_id": outbox_id}}}


def _name(session: Session, row: Claimed, user_id: str) -> str:
    return names_of(session, row.team_id, [user_id])[user_id]


def relayed(session: Session, answer: Answer) -> render.RelayedAnswer:
    """An answer as a manager is shown it (also when a copy already passed on is refreshed)."""
    checkin = session.get(CheckIn, answer.checkin_id)
    goal = session.get(Goal, answer.goal_id) if answer.goal_id is not None else None
    goal_text = goal.text if goal is not None and goal.team_id == answer.team_id else None
    question = None
    if checkin is not None and checkin.prompt:
        # An ad-hoc check-in's prompt is the manager's own literal question, not a template.
        question = escape(checkin.prompt) if checkin.kind == "adhoc" else prompt_text(checkin.prompt, goal_text)
    names = names_of(session, answer.team_id, [answer.rep_id])
    return render.RelayedAnswer(answer_id=answer.id, checkin_id=answer.checkin_id, rep_id=answer.rep_id,
                                rep_name=names[answer.rep_id], goal_id=answer.goal_id, goal_text=goal_text,
                                question=question, text=answer.text, confidence=answer.confidence,
                                help_wanted=answer.help_wanted)


def handled_note(session: Session, answer_id: int, manager_id: str) -> str | None:
    """What the manager already did about an answer, shown in place of its buttons."""
    kinds = set(session.scalars(select(CoachingNote.kind).where(CoachingNote.answer_id == answer_id,
                                                                CoachingNote.manager_id == manager_id)))
    if "note" in kinds:
        return "✓ You sent a note."
    return "✓ You said thanks." if "thanks" in kinds else None


def _relay_refresh(session: Session, row: Claimed) -> Message | None:
    """chat.update of a manager's copy of an answer (or of a reply passed on): its text now, or a line
    saying its writer deleted it."""
    target = {"op": "update", "ts": str(row.payload["ts"])}
    channel = str(row.payload["channel"])
    if "reply_id" in row.payload:  # a reply passed on, edited or deleted by its writer
        return {**reply_now(session, row), "channel": channel, **target}
    answer = session.get(Answer, int(row.payload["answer_id"]))
    if answer is None or answer.team_id != row.team_id:
        rep = str(row.payload["rep"])
        text, blocks = render.deleted_answer_blocks(_name(session, row, rep))
        return {**compose(channel, text, blocks, metadata(
            "checkin_answer", checkin_id=row.payload.get("checkin_id"), rep=rep, manager=row.recipient)), **target}
    item = relayed(session, answer)
    message = render.answer_message(item, row.recipient, channel)
    return {**message, "blocks": render.answer_blocks(item, handled_note(session, answer.id, row.recipient)),
            **target}


def _reminder(session: Session, row: Claimed) -> Message | None:
    checkin = session.get(CheckIn, row.checkin_id) if row.checkin_id else None
    if checkin is None or checkin.state != CheckInState.SENT:
        return None  # answered, skipped or snoozed meanwhile: no nudge needed
    return reminder(checkin.id, checkin.rep_id, checkin.goal_id, checkin.channel or checkin.rep_id,
                    checkin.message_ts)


def _answer_relay(session: Session, row: Claimed) -> Message | None:
    answer = session.get(Answer, int(row.payload["answer_id"]))
    if answer is None or answer.team_id != row.team_id:
        return None  # forgotten before it could be passed on
    return render.answer_message(relayed(session, answer), row.recipient, row.recipient)


def _thanks(session: Session, row: Claimed) -> Message | None:
    manager = str(row.payload["manager"])
    return render.thanks_to_rep(row.recipient, manager, _name(session, row, manager),
                                row.payload.get("checkin_id"), row.payload.get("goal_id"))


def _note(session: Session, row: Claimed) -> Message | None:
    note = session.get(CoachingNote, int(row.payload["note_id"]))
    if note is None or not note.text:
        return None
    goal_id = row.payload.get("goal_id")
    goal = session.get(Goal, int(goal_id)) if goal_id is not None else None
    return render.note_to_rep(row.recipient, note.manager_id, _name(session, row, note.manager_id),
                              row.payload.get("checkin_id"), goal_id, goal.text if goal else None, note.text)


def _invite(session: Session, row: Claimed) -> Message | None:
    membership = session.get(Membership, int(row.payload["membership_id"]))
    if membership is None or membership.status != "pending":
        return None  # withdrawn, or already answered
    manager = str(row.payload["manager"])
    return render.team_invite(row.recipient, manager, _name(session, row, manager), membership.id)


def _invite_outcome(session: Session, row: Claimed) -> Message | None:
    rep = str(row.payload["rep"])
    who = name_of(_name(session, row, rep))
    text = (f"{who} confirmed: they're on your team now." if row.payload.get("accepted")
            else f"{who} chose not to join your team for now.")
    return render.to_manager(row.recipient, rep, "manager_question", text)


def _cadence_proposal(session: Session, row: Claimed) -> Message | None:
    agreement = session.get(CadenceAgreement, int(row.payload["agreement_id"]))
    if agreement is None or agreement.status != "proposed":
        return None
    manager = agreement.manager_id
    return render.cadence_proposal(row.recipient, manager, _name(session, row, manager), agreement.id,
                                   str(row.payload["proposed"]), str(row.payload["current"]))


def _cadence_outcome(session: Session, row: Claimed) -> Message | None:
    rep = str(row.payload["rep"])
    who = name_of(_name(session, row, rep))
    description = str(row.payload["description"])
    text = (f"{who} accepted your proposed rhythm: {description}." if row.payload.get("accepted")
            else f"{who} would rather keep the current rhythm for now ({description}).")
    return render.to_manager(row.recipient, rep, "cadence_proposal", text,
                             agreement_id=row.payload.get("agreement_id"))


def _warning(session: Session, row: Claimed) -> Message | None:
    items = [(str(item["rep"]), SignalReading(**item["reading"])) for item in row.payload["items"]]
    return warning_dm(row.recipient, EVENT_TYPES[row.kind], items)


def _digest(session: Session, row: Claimed) -> Message | None:
    return _digest_of(session, row.team_id, row.recipient, row.payload)


def _digest_of(session: Session, team_id: str, recipient: str, payload: dict[str, Any]) -> Message | None:
    ids = [int(i) for i in payload["answer_ids"]]
    answers = list(session.scalars(select(Answer).where(Answer.id.in_(ids), Answer.team_id == team_id)
                                   .order_by(Answer.created_at, Answer.id)))
    if not answers:
        return None  # every answer in it was forgotten meanwhile
    since = dt.datetime.fromisoformat(str(payload["since"]))
    label = f"since {local_time(since, ZoneInfo(str(payload['zone'])).key)}"
    return render.digest_message(recipient, recipient, [relayed(session, a) for a in answers], label)


def _help_nudge(session: Session, row: Claimed) -> Message | None:
    found = session.get(HelpRequest, int(row.payload["help_id"]))
    if found is None or found.team_id != row.team_id or found.state != HelpState.OPEN:
        return None  # answered, resolved or cleared meanwhile: no nudge needed
    goal = session.get(Goal, found.goal_id) if found.goal_id is not None else None
    answer = session.scalar(select(Answer).where(Answer.checkin_id == found.checkin_id))
    item = HelpFact(id=found.id, rep_id=found.rep_id, checkin_id=found.checkin_id,
                    goal_text=goal.text if goal is not None else None, detail=found.detail,
                    created_at=found.created_at, answer_id=answer.id if answer else None,
                    answer_text=answer.text if answer else None)
    return nudge_message(row.recipient, _name(session, row, found.rep_id), item, int(row.payload["days"]),
                         str(row.payload["zone"]), found.goal_id)


def _prerendered(session: Session, row: Claimed) -> Message | None:
    """A message its listener rendered already (a long summary page): posted as it is."""
    message = dict(row.payload["message"])
    message["channel"] = row.recipient
    return message


REMOVED = "Check-in answers that were here were removed at the rep's request."


def _retract(session: Session, row: Claimed) -> Message | None:
    """A posted relay, digest or summary page without a forgotten rep's answers: the digest or page
    rendered again from what the database holds now (its other reps stay), a relay replaced."""
    source = session.get(OutboxMessage, int(row.payload["source"])) if row.payload.get("source") else None
    what = row.payload.get("what")
    shown: Message | None = None
    if source is not None and what == "digest":
        shown = _digest_of(session, row.team_id, row.recipient, json.loads(source.payload or "{}"))
    elif source is not None and what == "page":
        shown = dict(json.loads(source.payload or "{}")["message"])  # scrubbed when the rep forgot
    if shown is None and what == "relay" and row.payload.get("rep"):
        text, blocks = render.deleted_answer_blocks(_name(session, row, str(row.payload["rep"])))
        shown = {"text": text, "blocks": blocks}
    if shown is None:
        shown = {"text": REMOVED, "blocks": render.closed(REMOVED)}
    return {"op": "update", "channel": str(row.payload["channel"]), "ts": str(row.payload["ts"]),
            "text": shown["text"], "blocks": shown["blocks"]}
def _health_chart(session: Session, row: Claimed) -> Message | None:
    """The report's trend chart, drawn now: uploaded, then shown under its headline, with the
    same trends as text bars when Slack won't show it (`handlers.sender.upload`)."""
    chart = from_payload(row.payload["chart"])
    names = names_of(session, row.team_id, list(chart.reps))
    head, bars = chart_words(chart, names)
    shown = compose(row.recipient, head, bars[:1], metadata("team_digest", manager=row.recipient))
    return {**shown, "op": "upload", "fallback": {"blocks": bars},
            "file": {"content": chart_png(chart, names), "filename": HEALTH_CHART_FILENAME, "title": title(chart),
                     "alt_txt": alt_text(chart, names), "image": True}}


def _summary_csv(session: Session, row: Claimed) -> Message | None:
    """The team's check-ins as CSV, built now under the summary's rules: only reps still on the
    manager's team (confirmed), of this workspace, with the answers still stored."""
    team = reps_of_manager(session, row.team_id, row.recipient)
    named = [str(r) for r in row.payload.get("reps") or []]
    reps = [r for r in (named or team) if r in team]
    weeks = int(row.payload["weeks"])
    until = dt.datetime.fromisoformat(str(row.payload["until"]))
    since = until - dt.timedelta(weeks=weeks)
    zones = zones_of(session, row.team_id, reps, str(row.payload["default_zone"]))
    rows = checkin_rows(session, row.team_id, reps, since, until, zones)
    span = f"last {weeks} week{'s' if weeks != 1 else ''}"
    text = (f"Your team's check-ins, {span}: {len(rows)} row{'s' if len(rows) != 1 else ''} for "
            f"{len(reps)} rep{'s' if len(reps) != 1 else ''}, times in UTC and in each rep's zone.")
    refused = ("I couldn't attach the CSV of your team's check-ins: Slack didn't accept the file from me (uploads "
               "may be turned off in this workspace). `/checkin summary` shows the same period in Slack.")
    shown = compose(row.recipient, text, [SectionBlock(text=MarkdownTextObject(text=text))],
                    metadata("team_digest", manager=row.recipient))
    return {**shown, "op": "upload",
            "fallback": {"text": refused, "blocks": [SectionBlock(text=MarkdownTextObject(text=refused))]},
            "file": {"content": to_csv(rows).encode("utf-8"), "filename": f"checkins-{until.date().isoformat()}.csv",
                     "title": f"Check-ins, {span}", "image": False}}


def checkin_question(session: Session, checkin: CheckIn) -> tuple[str, str]:
    """(mrkdwn, plain) question text of a check-in, as the rep saw it."""
    if checkin.kind == "adhoc" and checkin.prompt is not None:
        # A manager's ad-hoc question: its prompt is the literal question, not a template. Escaped
        # in both forms, since the "plain" one becomes a message's `text` fallback.
        question = escape(checkin.prompt)
        return question, question
    goal = own_goal(session, checkin.team_id, checkin.rep_id, checkin.goal_id) if checkin.goal_id else None
    goal_text = goal.text if goal else None
    return prompt_text(checkin.prompt, goal_text), plain_prompt(checkin.prompt, goal_text)


def closed_checkin(session: Session, checkin: CheckIn, note: str, allow_edit: bool) -> Message:
    """The check-in DM with its buttons replaced by a short note (and an edit button once answered)."""
    question, plain = checkin_question(session, checkin)
    blocks = closed_blocks(question, note)
    if allow_edit:  # answered: what it says about help and the next step, and the controls to change them
        answer = session.scalar(select(Answer).where(Answer.checkin_id == checkin.id))
        found = request_of(session, checkin.id)
        help_open = found is not None and found.state == HelpState.OPEN
        step = answer.next_step if answer is not None and answer.next_step_state == StepState.PENDING else None
        notes = help_view.answered_notes(help_open, step)
        if notes:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text="\n".join(notes))]))
        controls = [ButtonElement(text="Edit answer", action_id=ANSWER, value=str(checkin.id)),
                    help_view.help_button(checkin.id, help_open),
                    help_view.confidence_select(checkin.id, answer.confidence if answer is not None else None)]
        if step and answer is not None:
            controls += help_view.step_buttons(answer.id)
        blocks.append(ActionsBlock(block_id=f"checkin_edit_{checkin.id}", elements=controls))
    return {"text": f"Check-in: {plain}", "blocks": blocks}


def _checkin_closed(session: Session, row: Claimed) -> Message | None:
    checkin = session.get(CheckIn, int(row.payload["checkin_id"]))
    if checkin is None or checkin.team_id != row.team_id or not (checkin.channel and checkin.message_ts):
        return None
    shown = closed_checkin(session, checkin, str(row.payload["note"]), bool(row.payload.get("allow_edit")))
    # The message it was queued for (a snoozed check-in brought back later is a new message, which
    # this edit must leave alone); rows queued before the payload named it edit the current one.
    channel, ts = str(row.payload.get("channel") or checkin.channel), str(row.payload.get("ts") or checkin.message_ts)
    return {"op": "update", "channel": channel, "ts": ts, **shown}


def _checkin_refresh(session: Session, row: Claimed) -> Message | None:
    """The open check-in DM again, with its question as it is now (a step dropped); nothing once the
    check-in is answered, skipped or snoozed, or the message is another one."""
    checkin = session.get(CheckIn, int(row.payload["checkin_id"]))
    if (checkin is None or checkin.team_id != row.team_id or checkin.state != CheckInState.SENT
            or checkin.message_ts != row.payload.get("ts") or not checkin.channel):
        return None
    goal = own_goal(session, checkin.team_id, checkin.rep_id, checkin.goal_id) if checkin.goal_id else None
    others = [(g.id, g.text) for g in active_goals(session, checkin.team_id, checkin.rep_id)]
    shown = checkin_prompt(checkin.id, checkin.rep_id, (goal.id, goal.text) if goal else None, checkin.prompt,
                           others)
    return {"op": "update", "channel": checkin.channel, "ts": checkin.message_ts, "text": shown["text"],
            "blocks": shown["blocks"]}


RENDERERS: Mapping[OutboxKind, Renderer] = {
    OutboxKind.CHECKIN_REMINDER: _reminder,
    OutboxKind.ANSWER_RELAY: _answer_relay,
    OutboxKind.THANKS: _thanks,
    OutboxKind.COACHING_NOTE: _note,
    OutboxKind.TEAM_INVITE: _invite,
    OutboxKind.INVITE_OUTCOME: _invite_outcome,
    OutboxKind.CADENCE_PROPOSAL: _cadence_proposal,
    OutboxKind.CADENCE_OUTCOME: _cadence_outcome,
    OutboxKind.DRIFT_WARNING: _warning,
    OutboxKind.CONTACT_GAP: _warning,
    OutboxKind.TEAM_DIGEST: _digest,
    OutboxKind.SUMMARY_PAGE: _prerendered,
    OutboxKind.NOTE_REPLY: note_reply,
    OutboxKind.RELAY_REFRESH: _relay_refresh,
    OutboxKind.RETRACT: _retract,
    OutboxKind.HEALTH_CHART: _health_chart,
    OutboxKind.SUMMARY_CSV: _summary_csv,
    OutboxKind.HELP_NUDGE: _help_nudge,
    OutboxKind.CHECKIN_CLOSED: _checkin_closed,
    OutboxKind.CHECKIN_REFRESH: _checkin_refresh,
}


def as_payload(message: Message) -> dict[str, Any]:
    """A rendered message as JSON-ready data, for `SUMMARY_PAGE` rows."""
    meta = message["metadata"]
    blocks = [b.to_dict() if hasattr(b, "to_dict") else b for b in message.get("blocks") or []]
    return {"message": {"text": message["text"], "blocks": blocks,
                        "metadata": {"event_type": meta.event_type, "event_payload": meta.event_payload}}}
