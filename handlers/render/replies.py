"""Block Kit for replies passed between a rep and a manager (`note_reply` outbox rows).

The words are the writer's own, quoted and escaped; a short line says how to answer back (in the
thread), and the note being answered is recalled in a line so the reader knows what it is about.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock
from sqlalchemy.orm import Session

from handlers.render import message, metadata
from handlers.render.manager import quoted
from handlers.render.summary import name_of, safe
from storage.models import CoachingNote, RelayedMessage
from storage.outbox import Claimed
from storage.summary import names_of

REPLY_CHARS = 2400
_HEADS = {
    "note": "{who} replied to your note",
    "thanks": "{who} replied to your thanks",
    "reply": "{who} replied",
    "dm": "{who} sent you a note",
}


def reply_message(recipient: str, who: str, context: str, text: str, about: str | None,
                  rep_id: str, manager_id: str, reply_id: int) -> dict[str, Any]:
    head = _HEADS.get(context, _HEADS["reply"]).format(who=f"*{who}*")
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"{head}:\n{quoted(text, REPLY_CHARS)}"))]
    lines = [f"About: _{safe(about, 200)}_"] if about else []
    lines.append(f"Reply in this thread and I'll pass it on to {who}.")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="\n".join(lines))]))
    return message(recipient, f"{who}: {safe(text, 200)}", blocks,
                   metadata("coaching_note", rep=rep_id, manager=manager_id, reply_id=reply_id))


def note_reply(session: Session, row: Claimed) -> dict[str, Any] | None:
    """Renderer of a `note_reply` row: the stored words as they are now (None if discarded or deleted)."""
    relayed = session.get(RelayedMessage, int(row.payload["reply_id"]))
    if relayed is None or relayed.team_id != row.team_id or relayed.status != "queued":
        return None
    return _rendered(session, row, relayed)


def _rendered(session: Session, row: Claimed, relayed: RelayedMessage) -> dict[str, Any]:
    note = session.get(CoachingNote, relayed.note_id) if relayed.note_id is not None else None
    who = name_of(names_of(session, row.team_id, [relayed.sender])[relayed.sender])
    return reply_message(row.recipient, who, str(row.payload.get("context") or "reply"), relayed.text,
                         note.text if note is not None else None, str(row.payload["rep"]),
                         str(row.payload["manager"]), relayed.id)


def reply_now(session: Session, row: Claimed) -> dict[str, Any]:
    """A reply already posted, as it reads now: edited words, or a line saying the writer deleted it."""
    relayed = session.get(RelayedMessage, int(row.payload["reply_id"]))
    if relayed is not None and relayed.team_id == row.team_id and relayed.status == "queued":
        return _rendered(session, row, relayed)
    sender = relayed.sender if relayed is not None else str(row.payload["rep"])
    text = f"{name_of(names_of(session, row.team_id, [sender])[sender])} deleted this message."
    return message(row.recipient, text, [SectionBlock(text=MarkdownTextObject(text=text))],
                   metadata("coaching_note", rep=str(row.payload["rep"]), manager=str(row.payload["manager"]),
                            reply_id=int(row.payload["reply_id"])))
