"""Booking and cancelling time off from App Home (the same rules as `/checkin pause A to B`)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from handlers.cmd_rep import book_leave
from handlers.context import parse_id, services_of
from handlers.home import publish_home
from handlers.render import leave as render
from storage import leave
from storage.people import ensure_user
from storage.schedules import zone_of


def open_modal(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    services = services_of(context)
    with services.sessions.begin() as session:
        user = ensure_user(session, services.team_id, body["user"]["id"], services.now(), role="guest")
        today = services.now().astimezone(zone_of(user, services.config)).date()
    client.views_open(trigger_id=body["trigger_id"], view=render.leave_modal(today))


def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    services = services_of(context)
    user_id = body["user"]["id"]
    first, last = render.read_range((view.get("state") or {}).get("values") or {})
    if first is None or last is None:
        ack(response_action="errors", errors={render.FIRST_BLOCK if first is None else render.LAST_BLOCK:
                                              "Please pick a day."})
        return
    with services.sessions.begin() as session:
        booked = book_leave(session, services.config, services.team_id, user_id, services.now(), first, last)
    if booked.refusal is not None:
        ack(response_action="errors", errors={render.LAST_BLOCK: booked.refusal})
        return
    ack()
    publish_home(services, user_id)


def cancel(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ack()
    services = services_of(context)
    user_id = body["user"]["id"]
    leave_id = parse_id(((body.get("actions") or [{}])[0] or {}).get("value"))
    if leave_id is None:
        publish_home(services, user_id)
        return
    with services.sessions.begin() as session:
        user = ensure_user(session, services.team_id, user_id, services.now(), role="guest")
        today = services.now().astimezone(zone_of(user, services.config)).date()
        leave.cancel(session, services.team_id, user_id, leave_id, today, services.now())
    publish_home(services, user_id)


def register(app: App) -> None:
    app.action(render.OPEN)(open_modal)
    app.action(render.CANCEL)(cancel)
    app.view(render.CALLBACK)(submit)
