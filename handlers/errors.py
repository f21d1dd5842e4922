"""The one global error handler: log the traceback, tell the person the truth, reveal nothing.

A database error means the request's transaction was rolled back, so the person is told that
what they sent was not saved (and a slash command's text is quoted back so they can resend it).
Any other error may have struck before or after a commit, so it claims neither.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.context.respond import Respond
from sqlalchemy.exc import SQLAlchemyError

from handlers.text import escape, excerpt, unescape

SORRY = ("Sorry, something went wrong on my side, so that may not have gone through. Please check, "
         "and try again in a minute.")
NOT_SAVED = ("Sorry, my database isn't accepting changes right now, so I couldn't do that and what you "
             "sent was *not* saved. Please try again in a few minutes.")
# Modal errors are shown under a field and capped at 150 characters; the modal keeps the text.
NOT_SAVED_MODAL = "Not saved: my database isn't accepting changes right now. Your text is still here; please try again soon."


def handle_error(error: Exception, body: dict[str, Any], logger: logging.Logger,
                 respond: Respond | None, response: BoltResponse | None) -> BoltResponse | None:
    logger.exception("unhandled error in a listener", exc_info=error)
    storage = isinstance(error, SQLAlchemyError)
    # `response` is None when the request was acknowledged already: only response_url is left.
    if body.get("type") == "view_submission":
        if response is None:
            return None
        # A modal keeps its input when we answer with errors; the first block gets the message.
        return BoltResponse(status=200, body={"response_action": "errors",
                                              "errors": _first_block_error(body, storage)})
    text = _not_saved(body) if storage else SORRY
    if "command" in body and response is not None:
        # The slash command was not acknowledged yet: the apology is the acknowledgement (not a 500).
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
    if respond is not None and body.get("response_url"):
        respond(text=text, response_type="ephemeral", replace_original=False)
        # Block actions were acknowledged first; a 500 now would only make Slack show a warning.
        return BoltResponse(status=200, body="") if response is not None else None
    # Never a 500 to Slack: a retry would not help, and the person was told what they could be.
    return BoltResponse(status=200, body="") if response is not None else None


def register(app: App) -> None:
    app.error(handle_error)


def _not_saved(body: dict[str, Any]) -> str:
    # Slash command text arrives escaped (should_escape); unescape first so it is escaped once.
    sent = unescape(str(body.get("text") or "")).strip() if "command" in body else ""
    if not sent:
        return NOT_SAVED
    quoted = "> " + escape(excerpt(f"{body['command']} {sent}", 2800)).replace("\n", "\n> ")
    return f"{NOT_SAVED} Here is what you sent, to copy:\n{quoted}"


def _first_block_error(body: dict[str, Any], storage: bool) -> dict[str, str]:
    values = body.get("view", {}).get("state", {}).get("values", {})
    block_id = next(iter(values), None)
    return {block_id: (NOT_SAVED_MODAL if storage else SORRY)[:150]} if block_id else {}
