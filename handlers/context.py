"""What listeners receive: the services (through Bolt's context) and, for slash subcommands, a bundle.

The wiring layer installs a global middleware that puts the one `Services` object into every
request's context under SERVICES_KEY; listeners read it with `services_of(context)`, so they are
plain module-level functions with no closure over the app being built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient

from core.services import Services
from handlers.slash import Command

if TYPE_CHECKING:  # types only: the dispatch pass (cron) loads these modules without Bolt
    from slack_bolt import Ack, BoltContext
    from slack_bolt.context.respond import Respond


SERVICES_KEY = "checkin_services"


def services_of(context: BoltContext) -> Services:
    services = context.get(SERVICES_KEY)
    if not isinstance(services, Services):
        raise RuntimeError("no services in the Bolt context: build the app with wiring.app.build_app")
    return services


@dataclass
class SlashContext:
    services: Services
    ack: Ack
    respond: Respond
    client: WebClient
    user_id: str
    trigger_id: str | None
    command: Command

    @property
    def team_id(self) -> str:
        return self.services.team_id

    def reply(self, text: str, blocks: list[Any] | None = None) -> None:
        """Acknowledge with a private (ephemeral) reply only the caller sees."""
        self.ack(response_type="ephemeral", text=text, blocks=blocks)

    def later(self, text: str, blocks: list[Any] | None = None) -> None:
        """A private reply after the ack, through the command's response_url."""
        self.respond(text=text, blocks=blocks, response_type="ephemeral")


SubcommandHandler = Callable[[SlashContext], None]


def action(body: dict[str, Any]) -> dict[str, Any]:
    """The (first) action of a block_actions payload."""
    return (body.get("actions") or [{}])[0]


def action_value(body: dict[str, Any]) -> str:
    return str(action(body).get("value") or "")


# Row IDs are PostgreSQL `integer`s: a larger number would fail in the database, not here.
MAX_ID = 2**31 - 1


def parse_id(value: Any) -> int | None:
    """A row ID taken from a payload; anything else (forged, empty, absurdly long) is None.

    ASCII digits only: str.isdigit() and int() also accept "²" or "٣", and int("²") raises.
    """
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = str(value)
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None

REFUSAL = "Sorry, I can't share that with you."
