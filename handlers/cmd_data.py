"""Data rights: `/checkin export` (your own data as a JSON file) and `/checkin forget`."""

from __future__ import annotations

import json
import logging
from urllib.error import URLError

from slack_sdk.errors import SlackApiError, SlackRequestError

from handlers.context import SlashContext, SubcommandHandler
from handlers.render.manager import forget_prompt
from storage.data_rights import count_answers, export_data

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
        count = count_answers(session, ctx.team_id, ctx.user_id)
    if count == 0:
        ctx.reply("You have no stored check-in answers, so there's nothing to delete.")
        return
    ctx.reply(f"Delete all {count} of your check-in answers? This can't be undone.", forget_prompt(count))


ROUTES: dict[str, SubcommandHandler] = {
    "export": handle_export,
    "forget": handle_forget,
}
