"""The one global error handler: log the traceback, tell the person politely, reveal nothing."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.context.respond import Respond

from core.services import Services

SORRY = ("Sorry, something went wrong on my side and I couldn't finish that. Nothing you wrote was "
         "discarded; please try again in a minute.")


def register(app: App, services: Services) -> None:
    @app.error
    def handle_error(error: Exception, body: dict[str, Any], logger: logging.Logger,
                     respond: Respond | None) -> BoltResponse:
        logger.exception("unhandled error in a listener", exc_info=error)
        if body.get("type") == "view_submission":
            # A modal keeps its input when we answer with errors; the first block gets the message.
            return BoltResponse(status=200, body={"response_action": "errors",
                                                  "errors": _first_block_error(body)})
        if respond is not None and body.get("response_url"):
            respond(text=SORRY, response_type="ephemeral", replace_original=False)
        # Never a 500 to Slack: the person has the apology above; a retry would not help.
        return BoltResponse(status=200, body="")


def _first_block_error(body: dict[str, Any]) -> dict[str, str]:
    values = body.get("view", {}).get("state", {}).get("values", {})
    block_id = next(iter(values), None)
    return {block_id: SORRY[:150]} if block_id else {}
