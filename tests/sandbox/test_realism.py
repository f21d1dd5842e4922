"""What real Slack payloads show and the sandbox now does: unrelated IM IDs, users without tz,
deactivated users' short shape, users.list pages, views.update keeping input, message subtypes."""

import json
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox import Sandbox
from sandbox.server import REPO_ROOT
from tests.sandbox.test_client import Capture

PAYLOADS = REPO_ROOT.parent / "shared" / "slack-payloads"


def real_event(name: str) -> dict[str, Any]:
    path = PAYLOADS / f"{name}.json"
    if not path.is_file():
        pytest.skip("../shared/slack-payloads is not present")
    return dict(json.loads(path.read_text())["original"]["event"])


def test_im_ids_are_not_derived_from_user_ids(sb: Sandbox, web: WebClient) -> None:
    channel = web.conversations_open(users="U0REP1")["channel"]["id"]
    assert channel.startswith("D") and channel[1:] != "0REP1"
    assert web.chat_postMessage(channel="U0REP1", text="x")["channel"] == channel
    assert sb.im_channel("U0REP2") != sb.im_channel("U0REP1")
    sb.add_user("U0NEW")
    assert sb.im_channel("U0NEW", "D024BE91L") == "D024BE91L"  # a recorded payload's IM can be registered
    assert sb.messages("U0NEW") == sb.messages("D024BE91L") == []


def test_a_user_without_a_zone_has_no_tz_fields(sb: Sandbox, web: WebClient) -> None:
    sb.add_user("U0NOTZ", name="nz", tz=None)
    user = web.users_info(user="U0NOTZ")["user"]
    assert not {"tz", "tz_label", "tz_offset"} & set(user)
    assert user["profile"]["display_name"] == "nz"


def test_a_deactivated_user_comes_back_without_most_fields(sb: Sandbox, web: WebClient) -> None:
    sb.deactivate_user("U0REP2")
    user = web.users_info(user="U0REP2")["user"]
    assert user["deleted"] is True
    assert not {"tz", "tz_offset", "is_admin", "is_owner", "real_name"} & set(user)
    assert user["profile"]["real_name"]


def test_users_list_pages_with_a_cursor_up_to_1000_a_page(sb: Sandbox, web: WebClient) -> None:
    for i in range(2100):
        sb.workspace.add_user(f"U1{i:05d}")
    seen: list[str] = []
    pages = 0
    cursor = None
    while True:
        page = web.users_list(limit=5000, cursor=cursor)
        pages += 1
        assert len(page["members"]) <= 1000
        seen += [m["id"] for m in page["members"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 2100 + 4  # three fixture users and the bot
    small = web.users_list(limit=2)
    assert len(small["members"]) == 2 and small["response_metadata"]["next_cursor"]
    with pytest.raises(SlackApiError) as err:
        web.users_list(cursor="bm90LWEtY3Vyc29y")
    assert err.value.response["error"] == "invalid_cursor"


def modal(*inputs: tuple[str, str]) -> dict[str, Any]:
    return {"type": "modal", "callback_id": "m", "title": {"type": "plain_text", "text": "M"},
            "submit": {"type": "plain_text", "text": "Save"},
            "blocks": [{"type": "input", "block_id": b, "label": {"type": "plain_text", "text": b},
                        "element": {"type": "plain_text_input", "action_id": a}} for b, a in inputs]}


def test_views_update_keeps_what_the_user_typed_in_unchanged_inputs(sb: Sandbox, web: WebClient) -> None:
    view = web.views_open(trigger_id=sb.view_store.issue_trigger("U0REP1"),
                          view=modal(("goal", "text"), ("note", "text"), ("old", "text")))["view"]
    slack = sb.client(Capture(), "s")
    with_button = modal(("goal", "text"), ("note", "text"), ("old", "text"))
    with_button["blocks"].append({"type": "actions", "elements": [{"type": "button", "action_id": "more",
                                                                   "text": {"type": "plain_text", "text": "More"}}]})
    view = web.views_update(view_id=view["id"], view=with_button)["view"]
    slack.click("more", user="U0REP1", view=view["id"], values={"goal": "Close Acme", "note": "hi", "old": "x"})
    updated = web.views_update(view_id=view["id"], view=modal(("goal", "text"), ("note", "renamed")))["view"]
    values = updated["state"]["values"]
    assert values["goal"]["text"]["value"] == "Close Acme"  # same block_id and action_id: kept
    assert "note" not in values and "old" not in values  # action_id changed / block gone: dropped


def keys_like(real: dict[str, Any], ours: dict[str, Any], ignore: frozenset[str] = frozenset()) -> set[str]:
    """The real payload's keys the sandbox's lacks (`ignore`: image thumbnails and the like)."""
    return set(real) - set(ours) - ignore


def test_a_file_share_is_shaped_like_slacks(sb: Sandbox) -> None:
    cap = Capture()
    sb.client(cap, "s").share_file("U0REP1", "my notes", filename="notes.pdf")
    event = cap.event()["event"]
    real = real_event("event_message_file_share_bolt")
    assert event["subtype"] == "file_share" and event["channel_type"] == "im"
    assert keys_like(real, event) == set()
    assert keys_like(real["files"][0], event["files"][0], frozenset({"thumb_64", "thumb_80", "thumb_360", "thumb_360_w",
                                                           "thumb_360_h", "thumb_480", "thumb_480_w", "thumb_480_h",
                                                           "thumb_160", "thumb_720", "thumb_720_w", "thumb_720_h",
                                                           "thumb_800", "thumb_800_w", "thumb_800_h", "thumb_960",
                                                           "thumb_960_w", "thumb_960_h", "thumb_1024",
                                                           "thumb_1024_w", "thumb_1024_h", "original_w",
                                                           "original_h", "thumb_tiny", "permalink_public",
                                                           "has_rich_preview", "media_display_type"})) == set()
    [stored] = sb.messages("U0REP1")
    assert stored.files == [event["files"][0]["id"]]


def test_a_thread_broadcast_carries_its_root(sb: Sandbox, web: WebClient) -> None:
    cap = Capture()
    root = web.chat_postMessage(channel="U0REP1", text="How did it go?")
    sb.client(cap, "s").broadcast_reply("U0REP1", "Great", thread_ts=root["ts"])
    event = cap.event()["event"]
    real = real_event("event_message_thread_broadcast_bolt")
    assert (event["subtype"], event["thread_ts"], event["root"]["ts"]) == ("thread_broadcast", root["ts"], root["ts"])
    assert keys_like(real, event) == set()


def test_edits_and_deletions_are_hidden_subtyped_events(sb: Sandbox) -> None:
    cap = Capture()
    slack = sb.client(cap, "s")
    slack.dm("U0REP1", "first")
    ts = cap.event()["event"]["ts"]
    slack.edit_message("U0REP1", ts, "second")
    changed = cap.event()["event"]
    assert keys_like(real_event("event_message_changed_bolt"), changed) == set()
    assert (changed["message"]["text"], changed["previous_message"]["text"]) == ("second", "first")
    assert changed["message"]["edited"]["user"] == "U0REP1"
    slack.delete_message("U0REP1", ts)
    deleted = cap.event()["event"]
    assert keys_like(real_event("event_message_deleted_bolt"), deleted) == set()
    assert "user" not in deleted and deleted["deleted_ts"] == ts
    assert sb.messages("U0REP1") == []


def test_other_bots_messages(sb: Sandbox) -> None:
    cap = Capture()
    slack = sb.client(cap, "s")
    slack.other_bot_message("U0REP1", "beep")
    classic = cap.event()["event"]
    assert keys_like(real_event("event_message_classic_bot_bolt"), classic) == set()
    assert "user" not in classic
    slack.other_bot_message("U0REP1", "beep", classic=False)
    modern = cap.event()["event"]
    assert keys_like(real_event("event_message_bot_bolt"), modern) == set()
    assert "subtype" not in modern


def test_user_change_reports_the_new_profile(sb: Sandbox) -> None:
    cap = Capture()
    sb.update_user("U0REP1", tz="Asia/Tokyo")
    sb.client(cap, "s").user_change("U0REP1")
    event = cap.event()["event"]
    assert event["type"] == "user_change"
    assert (event["user"]["id"], event["user"]["tz"], event["user"]["tz_offset"]) == ("U0REP1", "Asia/Tokyo", 32400)
    with pytest.raises(TypeError):
        sb.update_user("U0REP1", id="U0OTHER")
