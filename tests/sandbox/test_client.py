"""The simulated client sends what Slack sends: signed slash commands, interactions and events."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from sandbox import Sandbox

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


class Capture:
    """A transport that records requests and answers with a fixed reply."""

    def __init__(self, reply: bytes = b"", status: int = 200) -> None:
        self.requests: list[tuple[bytes, dict[str, str]]] = []
        self.reply = reply
        self.status = status

    def __call__(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        self.requests.append((body, headers))
        return self.status, {"Content-Type": "application/json"}, self.reply

    def form(self, index: int = -1) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.requests[index][0].decode(), keep_blank_values=True).items()}

    def payload(self, index: int = -1) -> dict[str, Any]:
        return json.loads(self.form(index)["payload"])

    def event(self, index: int = -1) -> dict[str, Any]:
        return json.loads(self.requests[index][0])


def verify(body: bytes, headers: dict[str, str], secret: str = SECRET) -> bool:
    return SignatureVerifier(secret).is_valid_request(body, headers)


def checkin_blocks() -> list[dict]:
    return [
        {"type": "section", "block_id": "q", "text": {"type": "mrkdwn", "text": "How is *Goal* going?"}},
        {"type": "actions", "block_id": "buttons", "elements": [
            {"type": "button", "action_id": "checkin_answer", "text": {"type": "plain_text", "text": "Answer"},
             "value": "c1"},
            {"type": "button", "action_id": "checkin_skip", "text": {"type": "plain_text", "text": "Skip"},
             "value": "c1"},
        ]},
    ]


def post_checkin(sb: Sandbox) -> str:
    msg = sb.workspace.post(sb.im_channel("U0REP1"), sb.bot_user_id, "Check-in", checkin_blocks(),
                            {"event_type": "checkin_prompt", "event_payload": {"checkin_id": "c1"}})
    return msg.ts


def respond(url: str, **body: Any) -> int:
    return WebhookClient(url).send_dict(body).status_code


def test_requests_are_signed_so_slacks_verifier_accepts_them(sb: Sandbox) -> None:
    cap = Capture()
    slack = sb.client(cap, SECRET)
    slack.slash("help", user="U0REP1")
    slack.dm("U0REP1", "hello")
    for body, headers in cap.requests:
        assert verify(body, headers)
        assert not verify(body, headers, secret="another-secret")
    slack.with_signing(secret="wrong").slash("help", user="U0REP1")
    assert not verify(*cap.requests[-1])
    slack.with_signing(timestamp_offset=-301).slash("help", user="U0REP1")
    body, headers = cap.requests[-1]
    assert int(headers["X-Slack-Request-Timestamp"]) < time.time() - 300
    assert not verify(body, headers)


def test_a_slash_command_is_a_form_with_slacks_fields(sb: Sandbox) -> None:
    cap = Capture(reply=b'{"text": "Here is your help"}')
    resp = sb.client(cap, SECRET).slash("help", user="U0REP1")
    form = cap.form()
    assert cap.requests[0][1]["Content-Type"] == "application/x-www-form-urlencoded"
    assert set(form) >= {"token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name",
                         "command", "text", "api_app_id", "response_url", "trigger_id"}
    assert (form["command"], form["text"], form["user_id"], form["team_id"]) == ("/checkin", "help", "U0REP1",
                                                                                  "T0SANDBOX")
    assert form["channel_id"] == sb.im_channel("U0REP1")
    assert resp.status == 200 and resp.reply == {"text": "Here is your help"}
    assert [(e.text, e.source) for e in sb.ephemerals_to("U0REP1")] == [("Here is your help", "ack")]


def test_slash_text_is_escaped_as_with_should_escape(sb: Sandbox) -> None:
    cap = Capture()
    slack = sb.client(cap, SECRET)
    slack.slash("ask @ana <b>how</b> & <@U0REP2> @here", user="U0MGR")
    assert cap.form()["text"] == "ask <@U0REP1|ana> &lt;b&gt;how&lt;/b&gt; &amp; <@U0REP2> <!here>"
    slack.slash("ask <@U0REP1|ana> hi", user="U0MGR")
    assert cap.form()["text"] == "ask <@U0REP1|ana> hi"


def test_response_urls_post_ephemeral_in_channel_replace_and_delete(sb: Sandbox) -> None:
    ts = post_checkin(sb)
    cap = Capture()
    slack = sb.client(cap, SECRET)
    slack.slash("now", user="U0REP1")
    url = cap.form()["response_url"]
    assert respond(url, text="Only you can see this") == 200
    assert respond(url, text="Everyone sees this", response_type="in_channel") == 200
    assert [e.source for e in sb.ephemerals_to("U0REP1")] == ["response_url"]
    assert sb.dms_to("U0REP1")[-1].text == "Everyone sees this"
    slack.click("checkin_skip", user="U0REP1")
    click_url = cap.payload()["response_url"]
    assert respond(click_url, replace_original=True, text="Skipped") == 200
    [prompt] = [m for m in sb.dms_to("U0REP1") if m.ts == ts]
    assert prompt.text == "Skipped" and prompt.blocks == []
    assert respond(click_url, delete_original=True) == 200
    assert ts not in [m.ts for m in sb.dms_to("U0REP1")]
    for _ in range(3):
        respond(url, text="again")
    assert respond(url, text="sixth") == 404
    assert [v.kind for v in sb.violations] == ["response_url"]


def test_response_url_posts_are_checked_like_messages(sb: Sandbox) -> None:
    cap = Capture()
    sb.client(cap, SECRET).slash("help", user="U0REP1")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "no fallback"}}]
    assert respond(cap.form()["response_url"], blocks=blocks) == 200
    assert [(v.method, v.kind) for v in sb.violations] == [("response_url", "text_fallback")]


def test_clicking_a_button_in_a_dm_sends_block_actions(sb: Sandbox) -> None:
    ts = post_checkin(sb)
    cap = Capture()
    sb.client(cap, SECRET).click("checkin_answer", user="U0REP1")
    payload = cap.payload()
    assert payload["type"] == "block_actions"
    [action] = payload["actions"]
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == (
        "checkin_answer", "buttons", "c1", "button")
    assert action["action_ts"]
    assert payload["user"]["id"] == "U0REP1" and payload["team"]["id"] == "T0SANDBOX"
    assert payload["container"] == {"type": "message", "message_ts": ts, "channel_id": sb.im_channel("U0REP1"),
                                    "is_ephemeral": False}
    assert payload["channel"]["id"] == sb.im_channel("U0REP1")
    assert payload["message"]["ts"] == ts and payload["message"]["metadata"]["event_type"] == "checkin_prompt"
    assert payload["trigger_id"] and payload["response_url"].startswith(sb.base_url)


def test_click_finds_nothing_when_the_user_has_no_such_button(sb: Sandbox) -> None:
    with pytest.raises(LookupError):
        sb.client(Capture(), SECRET).click("checkin_answer", user="U0REP1")


def test_a_click_trigger_opens_a_modal_once_and_only_while_fresh(sb: Sandbox) -> None:
    post_checkin(sb)
    cap = Capture()
    slack = sb.client(cap, SECRET)
    slack.click("checkin_answer", user="U0REP1")
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Answer"}, "blocks": []}
    assert sb.view_store.open(cap.payload()["trigger_id"], view)["type"] == "modal"
    sb.trigger_ttl = 0.01
    slack.click("checkin_answer", user="U0REP1")
    time.sleep(0.05)
    with pytest.raises(Exception, match="expired_trigger_id"):
        sb.view_store.open(cap.payload()["trigger_id"], view)


def answer_modal() -> dict:
    return {
        "type": "modal", "callback_id": "answer", "private_metadata": "c1",
        "title": {"type": "plain_text", "text": "Answer"}, "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            {"type": "input", "block_id": "answer", "label": {"type": "plain_text", "text": "Answer"},
             "element": {"type": "plain_text_input", "action_id": "text", "multiline": True}},
            {"type": "input", "block_id": "mood", "optional": True, "label": {"type": "plain_text", "text": "Mood"},
             "element": {"type": "static_select", "action_id": "pick", "options": [
                 {"text": {"type": "plain_text", "text": "Good"}, "value": "good"},
                 {"text": {"type": "plain_text", "text": "Meh"}, "value": "meh"}]}},
            {"type": "actions", "block_id": "more",
             "elements": [{"type": "button", "action_id": "add_goal", "text": {"type": "plain_text", "text": "+"}}]},
        ],
    }


def test_submit_view_builds_state_values_and_closes_the_modal(sb: Sandbox) -> None:
    view = sb.view_store.open(sb.view_store.issue_trigger("U0REP1"), answer_modal())
    cap = Capture()
    resp = sb.client(cap, SECRET).submit_view(view, {"text": "Going well", "mood": "meh"}, user="U0REP1")
    payload = cap.payload()
    assert payload["type"] == "view_submission"
    assert payload["view"]["callback_id"] == "answer" and payload["view"]["private_metadata"] == "c1"
    assert payload["view"]["state"]["values"] == {
        "answer": {"text": {"type": "plain_text_input", "value": "Going well"}},
        "mood": {"pick": {"type": "static_select",
                          "selected_option": {"text": {"type": "plain_text", "text": "Meh"}, "value": "meh"}}},
    }
    assert resp.status == 200 and sb.views_of("U0REP1") == []
    with pytest.raises(KeyError):
        sb.client(cap, SECRET).submit_view(view, {"typo": "x"}, user="U0REP1")


def test_submit_view_applies_response_actions(sb: Sandbox) -> None:
    view = sb.view_store.open(sb.view_store.issue_trigger("U0REP1"), answer_modal())
    errors = Capture(reply=json.dumps({"response_action": "errors", "errors": {"answer": "Too short"}}).encode())
    resp = sb.client(errors, SECRET).submit_view(view, {"text": "k"}, user="U0REP1")
    assert resp.reply == {"response_action": "errors", "errors": {"answer": "Too short"}}
    assert [v["id"] for v in sb.views_of("U0REP1")] == [view["id"]]
    thanks = {"type": "modal", "title": {"type": "plain_text", "text": "Thanks"},
              "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Saved"}}]}
    update = Capture(reply=json.dumps({"response_action": "update", "view": thanks}).encode())
    sb.client(update, SECRET).submit_view(view, {"text": "long enough"}, user="U0REP1")
    [current] = sb.views_of("U0REP1")
    assert current["id"] == view["id"] and current["title"]["text"] == "Thanks"
    clear = Capture(reply=b'{"response_action": "clear"}')
    sb.client(clear, SECRET).submit_view(current, {}, user="U0REP1")
    assert sb.views_of("U0REP1") == []
    sb.assert_no_violations()


def test_clicking_in_a_modal_sends_the_view_and_no_response_url(sb: Sandbox) -> None:
    view = sb.view_store.open(sb.view_store.issue_trigger("U0REP1"), answer_modal())
    cap = Capture()
    sb.client(cap, SECRET).click("add_goal", user="U0REP1", values={"text": "draft"})
    payload = cap.payload()
    assert payload["container"] == {"type": "view", "view_id": view["id"]}
    assert payload["view"]["state"]["values"]["answer"]["text"]["value"] == "draft"
    assert "response_url" not in payload and payload["actions"][0]["block_id"] == "more"


def test_a_dm_is_stored_in_the_im_and_sent_as_a_message_im_event(sb: Sandbox) -> None:
    ts = post_checkin(sb)
    cap = Capture()
    slack = sb.client(cap, SECRET)
    slack.dm("U0REP1", "It went fine <3", thread_ts=ts)
    body = cap.event()
    assert cap.requests[0][1]["Content-Type"] == "application/json"
    assert body["type"] == "event_callback" and body["team_id"] == "T0SANDBOX"
    assert body["event_id"].startswith("Ev") and isinstance(body["event_time"], int)
    event = body["event"]
    assert (event["type"], event["channel_type"], event["user"], event["thread_ts"]) == ("message", "im", "U0REP1",
                                                                                        ts)
    assert event["text"] == "It went fine &lt;3"
    stored = sb.messages("U0REP1")[-1]
    assert (stored.ts, stored.user, stored.bot_id, stored.thread_ts) == (event["ts"], "U0REP1", None, ts)
    assert "X-Slack-Retry-Num" not in cap.requests[0][1]


def test_events_can_be_retried_with_the_same_event_id(sb: Sandbox) -> None:
    cap = Capture()
    slack = sb.client(cap, SECRET)
    slack.dm("U0REP1", "answer", event_id="Ev0ONCE")
    slack.dm("U0REP1", "answer", event_id="Ev0ONCE", retry_num=1, retry_reason="http_timeout")
    slack.resend("Ev0ONCE", retry_num=2)
    assert [cap.event(i)["event_id"] for i in range(3)] == ["Ev0ONCE"] * 3
    assert cap.requests[0][0] == cap.requests[1][0] == cap.requests[2][0]
    assert cap.requests[1][1]["X-Slack-Retry-Num"] == "1"
    assert cap.requests[1][1]["X-Slack-Retry-Reason"] == "http_timeout"
    assert cap.requests[2][1]["X-Slack-Retry-Num"] == "2"
    assert len(sb.messages("U0REP1")) == 1  # the user wrote once


def test_opening_the_home_tab_sends_app_home_opened(sb: Sandbox) -> None:
    cap = Capture()
    slack = sb.client(cap, SECRET)
    slack.open_home("U0REP1")
    event = cap.event()["event"]
    assert (event["type"], event["user"], event["tab"]) == ("app_home_opened", "U0REP1", "home")
    assert "view" not in event
    sb.view_store.publish("U0REP1", {"type": "home", "blocks": []})
    slack.open_home("U0REP1")
    assert cap.event()["event"]["view"]["type"] == "home"


@pytest.fixture
def verifying_server() -> Iterator[tuple[str, list[int]]]:
    """A bare HTTP endpoint that answers 200 to well-signed requests and 401 to others."""
    statuses: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = 200 if verify(body, dict(self.headers.items())) else 401
            statuses.append(status)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slack/events", statuses
    server.shutdown()
    server.server_close()


def test_the_client_posts_to_a_bot_url_over_http(sb: Sandbox, verifying_server: tuple[str, list[int]]) -> None:
    url, statuses = verifying_server
    slack = sb.client(url, SECRET)
    assert slack.slash("help", user="U0REP1").status == 200
    assert slack.open_home("U0REP1").status == 200
    assert slack.with_signing(secret="forged").dm("U0REP1", "hi").status == 401
    assert slack.post_raw(b"payload=%7B%7D", {"Content-Type": "application/x-www-form-urlencoded"}).status == 401
    assert statuses == [200, 200, 401, 401]


def test_a_late_ack_is_a_violation_when_a_deadline_is_set(sb: Sandbox) -> None:
    def slow(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        time.sleep(0.06)
        return 200, {}, b""

    sb.client(slow, SECRET).slash("help", user="U0REP1")
    assert sb.violations == []
    sb.client(slow, SECRET, ack_deadline=0.05).slash("help", user="U0REP1")
    assert [(v.method, v.kind) for v in sb.violations] == [("slash", "slow_ack")]


def test_wait_for_returns_once_the_bot_has_done_its_work(sb: Sandbox) -> None:
    threading.Timer(0.05, lambda: sb.workspace.post(sb.im_channel("U0REP1"), sb.bot_user_id, "later")).start()
    assert sb.wait_for(lambda: sb.dms_to("U0REP1"), timeout=2)[0].text == "later"
    with pytest.raises(TimeoutError):
        sb.wait_for(lambda: sb.dms_to("U0REP2"), timeout=0.05)


def test_clicks_in_ephemerals_and_the_home_tab(sb: Sandbox) -> None:
    button = {"type": "actions", "block_id": "b", "elements": [
        {"type": "button", "action_id": "ask_cancel", "text": {"type": "plain_text", "text": "Cancel"}}]}
    home_button = {"type": "actions", "block_id": "h", "elements": [
        {"type": "button", "action_id": "home_goals", "text": {"type": "plain_text", "text": "Goals"}}]}
    sb.view_store.publish("U0MGR", {"type": "home", "blocks": [home_button]})
    eph = sb.workspace.add_ephemeral(sb.im_channel("U0MGR"), "U0MGR", "Rephrase?", [button], "chat.postEphemeral")
    cap = Capture()
    slack = sb.client(cap, SECRET)
    slack.click("ask_cancel", user="U0MGR")
    payload = cap.payload()
    assert payload["container"]["is_ephemeral"] is True and payload["container"]["message_ts"] == eph.ts
    assert "message" not in payload
    assert respond(payload["response_url"], replace_original=True, text="Cancelled") == 200
    assert [e.text for e in sb.ephemerals_to("U0MGR")] == ["Cancelled"]
    slack.click("home_goals", user="U0MGR")
    payload = cap.payload()
    assert payload["container"]["type"] == "view" and payload["view"]["type"] == "home"


def test_reply_and_message_text_include_the_blocks(sb: Sandbox) -> None:
    reply = {"text": "Help", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Reps*: goal add"}},
                                        {"type": "context", "elements": [{"type": "mrkdwn", "text": "tip"}]}]}
    resp = sb.client(Capture(reply=json.dumps(reply).encode()), SECRET).slash("help", user="U0REP1")
    assert resp.reply_text == "Help\n*Reps*: goal add\ntip"
    assert sb.ephemerals_to("U0REP1")[0].visible_text == resp.reply_text
    post_checkin(sb)
    assert "How is *Goal* going?" in sb.dms_to("U0REP1")[0].visible_text
