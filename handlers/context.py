"""The per-request bundle slash subcommands receive, so each one stays a small function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from core.services import Services
from handlers.background import Later, inline
from handlers.slash import Command


@dataclass
class SlashContext:
    services: Services
    ack: Ack
    respond: Respond
    client: WebClient
    user_id: str
    trigger_id: str | None
    command: Command
    # Runs what follows the ack off Bolt's listener threads (see handlers.background).
    later: Later = inline

    @property
    def team_id(self) -> str:
        return self.services.team_id

    def reply(self, text: str, blocks: list[Any] | None = None) -> None:
        """Acknowledge with a private (ephemeral) reply only the caller sees."""
        self.ack(response_type="ephemeral", text=text, blocks=blocks)


SubcommandHandler = Callable[[SlashContext], None]


def action(body: dict[str, Any]) -> dict[str, Any]:
    """The (first) action of a block_actions payload."""
    return (body.get("actions") or [{}])[0]


def action_value(body: dict[str, Any]) -> str:
    return str(action(body).get("value") or "")


def parse_id(value: Any) -> int | None:
    """A row ID taken from a payload; anything else (forged, empty, absurdly long) is None."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 12 else None

REFUSAL = "Sorry, I can't share that with you."
