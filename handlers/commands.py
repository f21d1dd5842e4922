"""`/checkin`: parse the text, then hand the typed command to its subcommand function."""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from core.services import Services
from handlers.background import runner
from handlers.context import SlashContext, SubcommandHandler
from handlers.help import handle_help
from handlers.slash import ParseError, parse

# Slash command text is capped by Slack at a few thousand characters; anything longer is refused
# politely rather than truncated.
MAX_COMMAND_TEXT = 4000


def routes() -> dict[str, SubcommandHandler]:
    from handlers import cmd_data, cmd_guard, cmd_manager, cmd_rep

    table: dict[str, SubcommandHandler] = {"help": handle_help}
    table.update(cmd_rep.ROUTES)
    table.update(cmd_manager.ROUTES)
    table.update(cmd_data.ROUTES)
    table.update(cmd_guard.ROUTES)
    return table


def register(app: App, services: Services, background: Executor | None = None) -> None:
    table = routes()
    later = runner(background)

    @app.command("/checkin")
    def on_checkin(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        text = command.get("text") or ""
        if len(text) > MAX_COMMAND_TEXT:
            ack(response_type="ephemeral",
                text=f"That's a bit long for me ({len(text)} characters); please keep it under "
                     f"{MAX_COMMAND_TEXT}. Nothing was saved.")
            return
        try:
            parsed = parse(text)
        except ParseError as exc:
            ack(response_type="ephemeral", text=str(exc))
            return
        handler = table.get(parsed.name)
        if handler is None:
            ack(response_type="ephemeral", text="That isn't available yet. Try `/checkin help`.")
            return
        handler(SlashContext(services=services, ack=ack, respond=respond, client=client,
                             user_id=command["user_id"], trigger_id=command.get("trigger_id"),
                             command=parsed, later=later))
