"""Happy paths (and Slack's own errors) of each Web API method, through a real slack_sdk WebClient."""

import json
import time
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox import Sandbox
from sandbox.server import DEFAULT_SPEC_DIR


def modal(title: str = "Answer", **extra: object) -> dict:
    return {
        "type": "modal",
        "callback_id": "answer",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [{"type": "input", "block_id": "a", "label": {"type": "plain_text", "text": "How?"},
                    "element": {"type": "plain_text_input", "action_id": "text"}}],
        **extra,
    }


def test_auth_test_identifies_the_bot(sb: Sandbox, web: WebClient) -> None:
    resp = web.auth_test()
    assert resp["team_id"] == "T0SANDBOX"
    assert resp["user_id"] == sb.bot_user_id
    assert resp["bot_id"] == sb.bot_id


def test_post_message_to_a_user_id_lands_in_their_im(sb: Sandbox, web: WebClient) -> None:
    meta = {"event_type": "checkin_prompt", "event_payload": {"checkin_id": "c1", "rep": "U0REP1"}}
    resp = web.chat_postMessage(channel="U0REP1", text="How is it going?", metadata=meta)
    assert resp["channel"].startswith("D")
    assert resp["message"]["text"] == "How is it going?"
    assert resp["message"]["metadata"] == meta
    [msg] = sb.dms_to("U0REP1")
    assert (msg.ts, msg.channel, msg.user, msg.event_type) == (resp["ts"], resp["channel"], sb.bot_user_id,
                                                               "checkin_prompt")
    assert msg.event_payload["checkin_id"] == "c1"
    assert sb.messages("U0REP1") == sb.messages(resp["channel"])
    sb.assert_no_violations()


def test_timestamps_increase_and_thread_replies_attach_to_the_parent(sb: Sandbox, web: WebClient) -> None:
    parent = web.chat_postMessage(channel="U0REP1", text="parent")
    reply = web.chat_postMessage(channel=parent["channel"], text="reply", thread_ts=parent["ts"])
    assert float(reply["ts"]) > float(parent["ts"])
    assert sb.dms_to("U0REP1")[1].thread_ts == parent["ts"]
    replies = web.conversations_replies(channel=parent["channel"], ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["parent", "reply"]
    assert replies["messages"][0]["reply_count"] == 1
    with pytest.raises(SlackApiError) as err:
        web.chat_postMessage(channel=parent["channel"], text="x", thread_ts="123.456")
    assert err.value.response["error"] == "thread_not_found"


def test_post_message_to_unknown_channel_fails_like_slack(web: WebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        web.chat_postMessage(channel="C0NOPE", text="hi")
    assert err.value.response["error"] == "channel_not_found"


def test_post_ephemeral_is_shown_only_to_that_user(sb: Sandbox, web: WebClient) -> None:
    resp = web.chat_postEphemeral(channel="U0REP1", user="U0REP1", text="only you")
    assert resp["message_ts"]
    assert [e.text for e in sb.ephemerals_to("U0REP1")] == ["only you"]
    assert sb.ephemerals_to("U0REP2") == []
    assert sb.messages("U0REP1") == []
    with pytest.raises(SlackApiError) as err:
        web.chat_postEphemeral(channel="U0REP1", user="U0REP2", text="not yours")
    assert err.value.response["error"] == "user_not_in_channel"


def test_update_and_delete_change_the_stored_message(sb: Sandbox, web: WebClient) -> None:
    posted = web.chat_postMessage(channel="U0REP1", text="old")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "new"}}]
    updated = web.chat_update(channel=posted["channel"], ts=posted["ts"], text="new", blocks=blocks)
    assert updated["ts"] == posted["ts"] and updated["text"] == "new"
    [msg] = sb.dms_to("U0REP1")
    assert msg.text == "new" and msg.blocks[0]["text"]["text"] == "new" and msg.edited_ts
    web.chat_delete(channel=posted["channel"], ts=posted["ts"])
    assert sb.dms_to("U0REP1") == []
    with pytest.raises(SlackApiError) as err:
        web.chat_update(channel=posted["channel"], ts=posted["ts"], text="again")
    assert err.value.response["error"] == "message_not_found"


def test_views_open_accepts_a_trigger_issued_by_the_client(sb: Sandbox, web: WebClient) -> None:
    trigger = sb.view_store.issue_trigger("U0REP1")
    resp = web.views_open(trigger_id=trigger, view=modal())
    view = resp["view"]
    assert view["id"].startswith("V") and view["callback_id"] == "answer" and view["hash"]
    assert [v["id"] for v in sb.views_of("U0REP1")] == [view["id"]]
    with pytest.raises(SlackApiError) as err:
        web.views_open(trigger_id=trigger, view=modal())
    assert err.value.response["error"] == "exchanged_trigger_id"
    with pytest.raises(SlackApiError) as err:
        web.views_open(trigger_id="made-up", view=modal())
    assert err.value.response["error"] == "invalid_trigger_id"


def test_views_open_rejects_an_expired_trigger(sb: Sandbox, web: WebClient) -> None:
    sb.trigger_ttl = 0.05
    trigger = sb.view_store.issue_trigger("U0REP1")
    time.sleep(0.1)
    with pytest.raises(SlackApiError) as err:
        web.views_open(trigger_id=trigger, view=modal())
    assert err.value.response["error"] == "expired_trigger_id"
    assert [v.kind for v in sb.violations] == ["trigger_id"]
    assert sb.views_of("U0REP1") == []


def test_views_push_update_and_publish(sb: Sandbox, web: WebClient) -> None:
    opened = web.views_open(trigger_id=sb.view_store.issue_trigger("U0REP1"), view=modal())["view"]
    pushed = web.views_push(trigger_id=sb.view_store.issue_trigger("U0REP1"), view=modal("More"))["view"]
    assert pushed["root_view_id"] == opened["id"] and pushed["previous_view_id"] == opened["id"]
    updated = web.views_update(view_id=pushed["id"], hash=pushed["hash"], view=modal("Changed"))["view"]
    assert updated["id"] == pushed["id"] and updated["title"]["text"] == "Changed"
    with pytest.raises(SlackApiError) as err:
        web.views_update(view_id=pushed["id"], hash=pushed["hash"], view=modal("Stale"))
    assert err.value.response["error"] == "hash_conflict"
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Your goals"}}]}
    published = web.views_publish(user_id="U0REP1", view=home)["view"]
    assert published["type"] == "home"
    assert [v["type"] for v in sb.views_of("U0REP1")] == ["home", "modal", "modal"]
    assert sb.home_of("U0REP1")["blocks"][0]["text"]["text"] == "Your goals"
    sb.assert_no_violations()


def test_users_info_gives_time_zone_and_deleted_flag(sb: Sandbox, web: WebClient) -> None:
    user = web.users_info(user="U0REP2")["user"]
    assert user["tz"] == "Europe/Berlin" and user["tz_offset"] in (3600, 7200) and user["deleted"] is False
    sb.deactivate_user("U0REP2")
    assert web.users_info(user="U0REP2")["user"]["deleted"] is True
    with pytest.raises(SlackApiError) as err:
        web.users_info(user="U0NOBODY")
    assert err.value.response["error"] == "user_not_found"


def test_conversations_open_gives_one_im_per_user(sb: Sandbox, web: WebClient) -> None:
    first = web.conversations_open(users="U0REP1")["channel"]["id"]
    again = web.conversations_open(users="U0REP1", return_im=True)
    assert first.startswith("D") and again["channel"]["id"] == first and again["already_open"]
    assert web.conversations_open(users="U0REP2")["channel"]["id"] != first
    with pytest.raises(SlackApiError) as err:
        web.conversations_open(users=sb.bot_user_id)
    assert err.value.response["error"] == "cannot_dm_bot"


def test_conversations_history_pages_newest_first_with_metadata_on_request(sb: Sandbox, web: WebClient) -> None:
    meta = {"event_type": "checkin_prompt", "event_payload": {"checkin_id": "c1"}}
    posted = [web.chat_postMessage(channel="U0REP1", text=f"m{i}", metadata=meta) for i in range(5)]
    channel = posted[0]["channel"]
    page = web.conversations_history(channel=channel, limit=2)
    assert [m["text"] for m in page["messages"]] == ["m4", "m3"] and page["has_more"]
    assert "metadata" not in page["messages"][0]
    rest = web.conversations_history(channel=channel, limit=10, cursor=page["response_metadata"]["next_cursor"],
                                     include_all_metadata=True)
    assert [m["text"] for m in rest["messages"]] == ["m2", "m1", "m0"] and not rest["has_more"]
    assert rest["messages"][0]["metadata"] == meta
    newer = web.conversations_history(channel=channel, oldest=posted[2]["ts"])
    assert [m["text"] for m in newer["messages"]] == ["m4", "m3"]


def test_reactions_add_marks_the_message_once(sb: Sandbox, web: WebClient) -> None:
    posted = web.chat_postMessage(channel="U0REP1", text="answer noted")
    web.reactions_add(channel=posted["channel"], timestamp=posted["ts"], name="white_check_mark")
    assert sb.dms_to("U0REP1")[0].reactions == {"white_check_mark": [sb.bot_user_id]}
    with pytest.raises(SlackApiError) as err:
        web.reactions_add(channel=posted["channel"], timestamp=posted["ts"], name="white_check_mark")
    assert err.value.response["error"] == "already_reacted"


def test_external_file_upload_stores_bytes_and_shares_them(sb: Sandbox, web: WebClient) -> None:
    channel = web.conversations_open(users="U0REP1")["channel"]["id"]
    resp = web.files_upload_v2(content='{"goals": []}', filename="export.json", channel=channel, title="Export",
                               initial_comment="Your data")
    file_id = resp["file"]["id"]
    [stored] = sb.files
    assert (stored.id, stored.content, stored.title, stored.completed) == (file_id, b'{"goals": []}', "Export", True)
    [msg] = sb.dms_to("U0REP1")
    assert msg.files == [file_id] and msg.text == "Your data"


def test_a_private_upload_keeps_its_alt_text_and_is_shown_only_by_a_slack_file_image(
        sb: Sandbox, web: WebClient) -> None:
    resp = web.files_upload_v2(content=b"\x89PNG", filename="chart.png", title="Chart", alt_txt="3 of 4 past")
    [stored] = sb.files
    assert (stored.alt_txt, stored.channels, stored.completed) == ("3 of 4 past", [], True)
    assert resp["file"]["permalink"].endswith(f"/{stored.id}/chart.png")
    assert sb.dms_to("U0REP1") == []
    image = {"type": "image", "slack_file": {"id": stored.id}, "alt_text": "3 of 4 past"}
    web.chat_postMessage(channel="U0REP1", text="chart", blocks=[image])
    [shown] = sb.dms_to("U0REP1")[0].blocks or []
    assert shown["slack_file"] == {"id": stored.id}
    with pytest.raises(SlackApiError) as err:
        web.chat_postMessage(channel="U0REP1", text="chart", blocks=[{**image, "slack_file": {"id": "F0NOPE"}}])
    assert err.value.response["error"] == "invalid_blocks"


def test_apps_connections_open_needs_an_app_token(sb: Sandbox, web: WebClient) -> None:
    app_web = WebClient(token=sb.app_token, base_url=sb.api_url)
    assert app_web.apps_connections_open(app_token=sb.app_token)["url"].startswith("ws://127.0.0.1:")
    with pytest.raises(SlackApiError) as err:
        web.apps_connections_open(app_token=sb.bot_token)
    assert err.value.response["error"] == "not_allowed_token_type"


@pytest.mark.skipif(not DEFAULT_SPEC_DIR.is_dir(), reason="needs ../shared/slack-spec to know real methods")
def test_a_real_but_unimplemented_method_is_unknown_without_a_violation(sb: Sandbox, web: WebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        web.api_call("chat.scheduleMessage", json={"channel": "U0REP1", "text": "x", "post_at": 1})
    assert err.value.response["error"] == "unknown_method"
    assert sb.violations == []
    with pytest.raises(SlackApiError):
        web.api_call("chat.postMessages", json={"channel": "U0REP1", "text": "x"})
    assert [(v.method, v.kind) for v in sb.violations] == [("chat.postMessages", "unknown_method")]


def test_form_bodies_with_a_token_param_work_and_no_token_is_not_authed(sb: Sandbox) -> None:
    def post(data: dict) -> dict:
        body = "&".join(f"{k}={v}" for k, v in data.items()).encode()
        req = urllib.request.Request(sb.api_url + "chat.postMessage", data=body,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    assert post({"token": sb.bot_token, "channel": "U0REP1", "text": "hi"})["ok"] is True
    assert post({"channel": "U0REP1", "text": "hi"})["error"] == "not_authed"
    assert "token" not in sb.calls[0].args
    assert [c.method for c in sb.calls_to("chat.postMessage")] == ["chat.postMessage"] * 2


@pytest.mark.filterwarnings("ignore:The top-level `text`")
def test_reset_records_keeps_the_workspace(sb: Sandbox, web: WebClient) -> None:
    web.chat_postMessage(channel="U0REP1", text="x", blocks=[{"type": "divider"}, {"type": "divider"}])
    with pytest.raises(SlackApiError):
        web.chat_postMessage(channel="U0REP1", text="")  # no text: a violation, and Slack's no_text
    assert sb.calls and sb.violations
    sb.reset_records()
    assert sb.calls == [] and sb.violations == []
    sb.assert_no_violations()
    assert len(sb.dms_to("U0REP1")) == 1


def test_form_encoded_json_arguments_are_decoded(sb: Sandbox, web: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    web.api_call("chat.postMessage", params={"channel": "U0REP1", "text": "hi", "blocks": json.dumps(blocks),
                                             "metadata": json.dumps({"event_type": "coaching_note",
                                                                     "event_payload": {"rep": "U0REP1"}})})
    [msg] = sb.dms_to("U0REP1")
    assert msg.blocks[0]["text"]["text"] == "hi" and msg.event_type == "coaching_note"
    sb.assert_no_violations()


def test_chat_update_needs_the_dm_id_not_the_user_id(sb: Sandbox, web: WebClient) -> None:
    posted = web.chat_postMessage(channel="U0REP1", text="hi")
    with pytest.raises(SlackApiError) as err:
        web.chat_update(channel="U0REP1", ts=posted["ts"], text="edited")
    assert err.value.response["error"] == "channel_not_found"
    assert [v.kind for v in sb.violations] == ["channel_id"]


def test_a_deactivated_users_dm_is_archived(sb: Sandbox, web: WebClient) -> None:
    sb.deactivate_user("U0REP2")
    with pytest.raises(SlackApiError) as err:
        web.chat_postMessage(channel="U0REP2", text="hi")
    assert err.value.response["error"] == "is_archived"
    with pytest.raises(SlackApiError) as err:
        web.conversations_open(users="U0REP2")
    assert err.value.response["error"] == "user_disabled"
