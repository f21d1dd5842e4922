"""Data rights: `/checkin export` (your own data as a JSON file) and `/checkin forget`.

Forgetting deletes the rep's answers, goals and the notes they received, and takes their answers
out of every message the bot posted (relays, digests, summary pages) through RETRACT outbox rows:
chat.update, retried like any other send until Slack takes it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from urllib.error import URLError

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from sqlalchemy.orm import Session

from handlers.context import SlashContext, SubcommandHandler
from handlers.render.manager import forget_prompt
from handlers.render.summary import rep_block_id
from storage import outbox
from storage.data_rights import Forgotten, export_data, forget_rep, stored_of
from storage.models import OutboxKind

log = logging.getLogger(__name__)
EXPORT_FILENAME = "checkin-coach-export.json"


def handle_export(ctx: SlashContext) -> None:
    ctx.ack()  # building and uploading the file can take longer than Slack's 3 seconds
    _export(ctx)


def _export(ctx: SlashContext) -> None:
    now = ctx.services.now()
    with ctx.services.sessions.begin() as session:
        data = export_data(session, ctx.team_id, ctx.user_id, now)
    content = json.dumps(data, indent=2, ensure_ascii=False)
    try:
        # files_upload_v2: files.getUploadURLExternal, the upload itself, files.completeUploadExternal.
        channel = ctx.client.conversations_open(users=ctx.user_id)["channel"]["id"]
        ctx.client.files_upload_v2(channel=channel, content=content.encode("utf-8"), filename=EXPORT_FILENAME,
                                   title="Your Check-in Coach data",
                                   initial_comment="Here is a copy of everything I store about you.")
    except (SlackApiError, SlackRequestError, URLError, OSError) as exc:
        log.warning("export upload failed for %s: %s", ctx.user_id, type(exc).__name__)
        ctx.respond(text="Sorry, I couldn't upload your export just now. Nothing changed; please try again "
                         "in a minute.", response_type="ephemeral")
        return
    counts = f"{len(data['goals'])} goals, {len(data['checkins'])} check-ins, {len(data['answers'])} answers"
    ctx.respond(text=f"I've sent your data to our DM as a JSON file ({counts}).", response_type="ephemeral")


def handle_forget(ctx: SlashContext) -> None:
    with ctx.services.sessions.begin() as session:
        stored = stored_of(session, ctx.team_id, ctx.user_id)
    if stored.empty:
        ctx.reply("You have no stored check-in answers, goals or notes, so there's nothing to delete.")
        return
    ctx.reply(f"Delete all {stored.answers} of your check-in answers, your goals and notes? This can't be undone.",
              forget_prompt(stored.answers))


# What a summary page already posted shows where the forgotten rep's row was.
REMOVED_ROW = SectionBlock(text=MarkdownTextObject(
    text="_One rep's entry was removed at their request._")).to_dict()


def forget_everywhere(session: Session, team_id: str, rep_id: str, now: dt.datetime) -> tuple[Forgotten, list[int]]:
    """Delete what the rep wrote and queue one RETRACT per posted copy. Returns the outbox ids."""
    forgotten = forget_rep(session, team_id, rep_id, rep_block_id(rep_id), REMOVED_ROW)
    ids = [found for copy in forgotten.copies if (found := outbox.enqueue(
        session, team_id=team_id, kind=OutboxKind.RETRACT, recipient=copy.recipient, now=now,
        dedupe_key=f"retract:{rep_id}:{copy.channel}:{copy.ts}",
        payload={"rep": rep_id, "channel": copy.channel, "ts": copy.ts, "what": copy.what,
                 "source": copy.source})) is not None]
    return forgotten, ids


ROUTES: dict[str, SubcommandHandler] = {
    "export": handle_export,
    "forget": handle_forget,
}
