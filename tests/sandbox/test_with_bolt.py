"""A real Bolt app driven through the sandbox: in-process transport, and Socket Mode."""

from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

from sandbox import Sandbox, bolt_transport

SECRET = "bolt-test-secret"


def build_app(sb: Sandbox, seen: list[Any]) -> App:
    app = App(client=WebClient(token=sb.bot_token, base_url=sb.api_url), signing_secret=SECRET,
              process_before_response=True)

    @app.command("/checkin")
    def command(ack: Ack, command: dict, client: WebClient) -> None:
        ack(text=f"Starting a check-in for {command['text']}")
        client.chat_postMessage(
            channel=command["user_id"], text="How is your goal going?",
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "How is your goal going?"}},
                    {"type": "actions", "elements": [
                        {"type": "button", "action_id": "checkin_answer", "value": "c1",
                         "text": {"type": "plain_text", "text": "Answer"}}]}],
            metadata={"event_type": "checkin_prompt", "event_payload": {"checkin_id": "c1"}})

    @app.action("checkin_answer")
    def answer(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view={
            "type": "modal", "callback_id": "answer", "private_metadata": body["actions"][0]["value"],
            "title": {"type": "plain_text", "text": "Your answer"}, "submit": {"type": "plain_text", "text": "Send"},
            "blocks": [{"type": "input", "block_id": "answer", "label": {"type": "plain_text", "text": "Answer"},
                        "element": {"type": "plain_text_input", "action_id": "text"}}]})
        respond(replace_original=True, text="Answering…")

    @app.view("answer")
    def submitted(ack: Ack, view: dict) -> None:
        seen.append((view["private_metadata"], view["state"]["values"]["answer"]["text"]["value"]))
        ack()

    @app.event("message")
    def message(event: dict) -> None:
        seen.append(event["text"])

    return app


def test_a_bolt_app_runs_a_whole_check_in_in_process(sb: Sandbox) -> None:
    sb.add_user("U0REP1", name="ana")
    seen: list[Any] = []
    slack = sb.client(bolt_transport(build_app(sb, seen)), SECRET)
    assert slack.slash("now", user="U0REP1").reply == {"text": "Starting a check-in for now"}
    [prompt] = sb.dms_to("U0REP1")
    assert prompt.event_type == "checkin_prompt" and prompt.action_ids() == ["checkin_answer"]
    assert slack.click("checkin_answer", user="U0REP1").status == 200
    assert sb.dms_to("U0REP1")[0].text == "Answering…"
    [modal] = sb.views_of("U0REP1")
    slack.submit_view(modal, {"text": "Shipped the demo"}, user="U0REP1")
    assert seen == [("c1", "Shipped the demo")]
    assert sb.views_of("U0REP1") == []
    assert slack.with_signing(secret="forged").slash("now", user="U0REP1").status == 401
    sb.assert_no_violations()


@pytest.fixture
def socket_app(sb: Sandbox) -> Iterator[list[Any]]:
    seen: list[Any] = []
    app = build_app(sb, seen)
    handler = SocketModeHandler(app, sb.app_token, web_client=WebClient(token=sb.app_token, base_url=sb.api_url))
    handler.connect()
    yield seen
    sb.socket_server.drop_connections()  # else the builtin client waits out its 3 s receive timeout
    try:
        handler.close()
    except AttributeError:
        # slack_sdk's builtin Connection.close() races its own receive thread once the server has
        # dropped the socket (`sock` may already be None); the connection is closed either way.
        pass


def test_socket_mode_envelopes_are_acknowledged(sb: Sandbox, socket_app: list[Any]) -> None:
    sb.add_user("U0REP1", name="ana")
    slack = sb.client(socket=True)
    resp = slack.slash("now", user="U0REP1")
    assert resp.status == 200 and resp.reply == {"text": "Starting a check-in for now"}
    assert slack.dm("U0REP1", "hello there").status == 200
    assert "hello there" in socket_app
    acked = [m for m in sb.socket_server.received if "envelope_id" in m]
    assert len(acked) == 2
    assert sb.socket_server.connection_count == 1
