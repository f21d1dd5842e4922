"""Slack's own request payloads (../shared/slack-payloads), replayed through the real bot over signed HTTP.

Each file is read at test time, its IDs are mapped onto the test workspace as its INDEX.md says, and
the replay asserts what the person would expect to happen. The workspace is made a Grid workspace
(E0ORG) so the Grid payloads' enterprise IDs map onto ours rather than being dropped.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from sqlalchemy import select

from sandbox import payloads
from sandbox.client import Response
from sandbox.models import TEAM_ID
from storage.models import Answer, CheckIn, Goal
from wiring.harness import BotHarness

# People in several zones message each other here; their hours are not what is tested (see conftest).
ANY_HOUR = True

PAYLOADS = Path(__file__).resolve().parents[2].parent / "shared" / "slack-payloads"
ORG = "E0ORG"
REP = "U0REP1"
GRID_USER = "W111"
FORM = "application/x-www-form-urlencoded"

pytestmark = pytest.mark.skipif(not PAYLOADS.is_dir(), reason=f"no real Slack payloads at {PAYLOADS}")


def load(name: str) -> Any:
    return copy.deepcopy(json.loads((PAYLOADS / name).read_text(encoding="utf-8"))["original"])


def mapped(node: Any, ids: dict[str, str | None]) -> Any:
    """`node` with every string equal to a key of `ids` replaced (the payloads' IDs -> ours)."""
    if isinstance(node, dict):
        return {k: mapped(v, ids) for k, v in node.items()}
    if isinstance(node, list):
        return [mapped(v, ids) for v in node]
    if isinstance(node, str) and node in ids:
        return ids[node]
    return node


def workspace_ids(**more: str | None) -> dict[str, str | None]:
    ids: dict[str, str | None] = {team: TEAM_ID for team in ("T111", "T222", "T123ABC456", "T-auth")}
    ids.update({org: ORG for org in ("E111", "E-auth")})
    ids.update(more)
    return ids


@pytest.fixture
def grid(bot: BotHarness) -> Iterator[BotHarness]:
    bot.services.enterprise_id = ORG  # as auth.test reports for a workspace in an Enterprise Grid org
    for user, name in ((GRID_USER, "owner"), ("W222", "wes"), ("U2147483697", "docs")):
        bot.sandbox.add_user(user, name=name, tz="UTC")
    yield bot


def send(bot: BotHarness, body: bytes, content_type: str) -> Response:
    return bot.slack.post_raw(body, bot.slack.signed_headers(body, content_type))


def send_json(bot: BotHarness, payload: dict[str, Any]) -> Response:
    return send(bot, json.dumps(payload).encode(), "application/json")


def send_interaction(bot: BotHarness, payload: dict[str, Any]) -> Response:
    return send(bot, urlencode({"payload": json.dumps(payload)}).encode(), FORM)


def open_checkin(bot: BotHarness, user: str) -> CheckIn:
    assert bot.slack.slash("now", user=user).status == 200
    with bot.services.sessions.begin() as session:
        row = session.scalar(select(CheckIn).where(CheckIn.rep_id == user, CheckIn.state == "sent"))
        assert row is not None and row.message_ts is not None
        return row


def answers_of(bot: BotHarness, user: str) -> list[Answer]:
    with bot.services.sessions.begin() as session:
        return list(session.scalars(select(Answer).where(Answer.rep_id == user)))


def user_message(bot: BotHarness, user: str, text: str, thread_ts: str | None = None) -> str:
    """The person's message as Slack stores it in their IM; returns its ts."""
    return bot.sandbox.workspace.post(bot.sandbox.im_channel(user), user, text, thread_ts=thread_ts,
                                      by_bot=False).ts


def in_im(event: dict[str, Any], bot: BotHarness, user: str) -> dict[str, Any]:
    event["channel"] = bot.sandbox.im_channel(user)
    event["channel_type"] = "im"
    return event


def response_url(bot: BotHarness, channel: str, user: str, **target: str) -> str:
    token = bot.sandbox.workspace.new_response_target(channel, user, **target).token
    return f"{bot.sandbox.base_url}/response/{token}"


def bot_calls(bot: BotHarness, method: str) -> list[Any]:
    return bot.sandbox.calls_to(method)


# ---- Slack's set-up checks ---------------------------------------------------------------------


def test_url_verification_echoes_the_challenge(grid: BotHarness) -> None:
    original = load("event_url_verification_bolt.json")
    response = send_json(grid, original)
    assert response.status == 200 and original["challenge"] in response.text


def test_ssl_check_gets_200(grid: BotHarness) -> None:
    response = send(grid, load("ssl_check_bolt.json").encode(), FORM)
    assert response.status == 200


# ---- Events: answers in every real shape ---------------------------------------------------------


def test_documented_message_im_is_stored_as_the_answer(grid: BotHarness) -> None:
    user = "U2147483697"
    open_checkin(grid, user)
    envelope = mapped(load("event_message_im_docs.json"), workspace_ids())
    envelope["event"] = in_im(envelope["event"], grid, user)
    envelope["event"]["ts"] = envelope["event"]["event_ts"] = user_message(grid, user, "Hello hello can you hear me?")
    assert send_json(grid, envelope).status == 200
    [answer] = answers_of(grid, user)
    assert answer.text == "Hello hello can you hear me?" and answer.event_id == "Ev0PV52K21"


def test_grid_users_plain_im_is_stored_as_the_answer(grid: BotHarness) -> None:
    open_checkin(grid, GRID_USER)
    envelope = mapped(load("event_message_user_grid_bolt.json"), workspace_ids())
    envelope["event"] = in_im(envelope["event"], grid, GRID_USER)
    envelope["event"]["ts"] = user_message(grid, GRID_USER, envelope["event"]["text"])
    assert send_json(grid, envelope).status == 200
    assert [a.text for a in answers_of(grid, GRID_USER)] == ["Hi there! Thanks for sharing the info!"]


def test_grid_thread_reply_answers_that_checkin(grid: BotHarness) -> None:
    user = "W222"
    checkin = open_checkin(grid, user)
    envelope = mapped(load("event_message_im_thread_grid_bolt.json"), workspace_ids())
    event = in_im(envelope["event"], grid, user)
    event["thread_ts"] = checkin.message_ts
    event["ts"] = user_message(grid, user, event["text"], thread_ts=checkin.message_ts)
    assert send_json(grid, envelope).status == 200
    [answer] = answers_of(grid, user)
    assert answer.checkin_id == checkin.id and answer.source == "thread"


def test_an_answer_sent_with_a_file_is_stored_with_the_file_linked(grid: BotHarness) -> None:
    open_checkin(grid, REP)
    envelope = mapped(load("event_message_file_share_bolt.json"), workspace_ids(U111=REP))
    event = in_im(envelope["event"], grid, REP)
    event["ts"] = user_message(grid, REP, event["text"])
    assert event["subtype"] == "file_share"
    assert send_json(grid, envelope).status == 200
    [answer] = answers_of(grid, REP)
    permalink = event["files"][0]["permalink"]
    assert answer.text.startswith("Hi there!") and permalink in answer.text
    assert event["files"][0]["url_private_download"] not in answer.text  # linked, not copied


def test_a_thread_reply_also_sent_to_the_dm_is_stored(grid: BotHarness) -> None:
    checkin = open_checkin(grid, REP)
    envelope = mapped(load("event_message_thread_broadcast_bolt.json"), workspace_ids(U111=REP))
    event = in_im(envelope["event"], grid, REP)
    event["thread_ts"] = event["root"]["ts"] = event["root"]["thread_ts"] = checkin.message_ts
    event["ts"] = user_message(grid, REP, event["text"], thread_ts=checkin.message_ts)
    assert send_json(grid, envelope).status == 200
    [answer] = answers_of(grid, REP)
    assert answer.checkin_id == checkin.id and answer.text == "Hi there!"


def test_the_message_superset_is_stored_as_an_answer(grid: BotHarness) -> None:
    open_checkin(grid, REP)
    envelope = load("event_message_java_superset.json")
    envelope.update(team_id=TEAM_ID, enterprise_id=ORG, type="event_callback", event_id="Ev0SUPERSET")
    envelope["authorizations"][0].update(team_id=TEAM_ID, enterprise_id=ORG)
    event = in_im(envelope["event"], grid, REP)
    event.pop("subtype", None)
    event.update(user=REP, team=TEAM_ID, text="Superset answer: pricing is settled")
    event["ts"] = event["event_ts"] = user_message(grid, REP, event["text"])
    assert send_json(grid, envelope).status == 200
    assert [a.text for a in answers_of(grid, REP)] == ["Superset answer: pricing is settled"]


@pytest.mark.parametrize("name", ["event_message_bot_bolt.json", "event_message_classic_bot_bolt.json"])
def test_another_apps_bot_message_is_ignored(grid: BotHarness, name: str) -> None:
    open_checkin(grid, REP)
    grid.sandbox.reset_records()
    envelope = mapped(load(name), workspace_ids())
    in_im(envelope["event"], grid, REP)
    assert send_json(grid, envelope).status == 200
    assert answers_of(grid, REP) == [] and grid.sandbox.calls == []


def _answered_by_dm(bot: BotHarness) -> tuple[str, Answer]:
    open_checkin(bot, REP)
    ts = user_message(bot, REP, "original message")
    bot.slack.send_event({"type": "message", "channel": bot.sandbox.im_channel(REP), "user": REP,
                          "text": "original message", "ts": ts, "event_ts": ts, "channel_type": "im"})
    [answer] = answers_of(bot, REP)
    return ts, answer


def test_an_edit_of_an_answer_updates_it_and_the_managers_copy(grid: BotHarness) -> None:
    ts, before = _answered_by_dm(grid)
    [relay] = [m for m in grid.sandbox.dms_to("U0MANAGER") if m.event_type == "checkin_answer"]
    envelope = mapped(load("event_message_changed_bolt.json"), workspace_ids(U111=REP, U222=REP))
    event = in_im(envelope["event"], grid, REP)
    event["previous_message"]["ts"] = ts
    envelope["event_id"] = "Ev0EDIT"
    assert send_json(grid, envelope).status == 200
    assert [a.text for a in answers_of(grid, REP)] == ["updated message"]
    shown = grid.sandbox.workspace.find(relay.channel, relay.ts)
    assert shown is not None and "updated message" in str(shown.blocks) and "original" not in str(shown.blocks)
    assert any("updated your check-in answer" in e.text for e in grid.sandbox.ephemerals_to(REP))
    updates = len(grid.sandbox.calls_to("chat.update"))
    assert send_json(grid, envelope).status == 200  # Slack's retry of the same event changes nothing more
    assert len(grid.sandbox.calls_to("chat.update")) == updates


def test_a_deleted_answer_is_removed_and_taken_back_from_the_manager(grid: BotHarness) -> None:
    ts, before = _answered_by_dm(grid)
    [relay] = [m for m in grid.sandbox.dms_to("U0MANAGER") if m.event_type == "checkin_answer"]
    envelope = mapped(load("event_message_deleted_bolt.json"), workspace_ids(U111=REP))
    event = in_im(envelope["event"], grid, REP)
    event["deleted_ts"] = event["previous_message"]["ts"] = ts
    envelope["event_id"] = "Ev0DELETE"
    assert send_json(grid, envelope).status == 200
    assert answers_of(grid, REP) == []
    shown = grid.sandbox.workspace.find(relay.channel, relay.ts)
    assert shown is not None and before.text not in str(shown.blocks) + shown.text
    assert any("removed it" in e.text for e in grid.sandbox.ephemerals_to(REP))


# ---- Events: the App Home ----------------------------------------------------------------------


def test_documented_app_home_opened_publishes_the_home_tab(grid: BotHarness) -> None:
    event = mapped(load("event_app_home_opened_docs.json"), workspace_ids(U123ABC456=REP))
    event["channel"] = grid.sandbox.im_channel(REP)
    assert grid.slack.send_event(event).status == 200
    assert grid.sandbox.home_of(REP) is not None


def test_app_home_opened_superset_publishes_the_home_tab(grid: BotHarness) -> None:
    envelope = load("event_app_home_opened_java_superset.json")
    envelope.update(team_id=TEAM_ID, enterprise_id=ORG, type="event_callback", event_id="Ev0HOME")
    envelope["event"].update(user=REP, channel=grid.sandbox.im_channel(REP), tab="home")
    assert send_json(grid, envelope).status == 200
    assert grid.sandbox.home_of(REP) is not None


def test_the_messages_tab_of_an_org_install_publishes_nothing(grid: BotHarness) -> None:
    envelope = mapped(load("event_app_home_opened_org_messages_tab_bolt.json"), workspace_ids())
    envelope["event"]["channel"] = grid.sandbox.im_channel(GRID_USER)
    assert send_json(grid, envelope).status == 200
    assert bot_calls(grid, "views.publish") == []


# ---- Slash commands ----------------------------------------------------------------------------


def test_grid_slash_command_adds_the_goal(grid: BotHarness) -> None:
    form = dict(parse_qsl(load("slash_enterprise_grid_bolt.json")))
    form = {k: str(v) for k, v in mapped(form, workspace_ids()).items()}
    channel = grid.sandbox.im_channel(GRID_USER)
    form.update(command="/checkin", text="goal add Land the Grid pilot", channel_id=channel,
                channel_name="directmessage", response_url=response_url(grid, channel, GRID_USER),
                trigger_id=grid.sandbox.view_store.issue_trigger(GRID_USER))
    response = send(grid, urlencode(form).encode(), FORM)
    assert response.status == 200
    with grid.services.sessions.begin() as session:
        assert session.scalars(select(Goal.text).where(Goal.rep_id == GRID_USER)).all() == ["Land the Grid pilot"]


def test_the_slash_command_superset_gets_help(grid: BotHarness) -> None:
    form = load("slash_java_sample.json")
    channel = grid.sandbox.im_channel(REP)
    form.update(team_id=TEAM_ID, team_domain="sandbox", enterprise_id=ORG, enterprise_name="Org",
                channel_id=channel, channel_name="directmessage", user_id=REP, user_name="ana",
                command="/checkin", text="help", response_url=response_url(grid, channel, REP),
                trigger_id=grid.sandbox.view_store.issue_trigger(REP), is_enterprise_install="false",
                api_app_id="A0SANDBOX", token="x")
    response = send(grid, urlencode(form).encode(), FORM)
    assert response.status == 200 and "/checkin goal add" in response.text


# ---- Interactions ------------------------------------------------------------------------------


def test_a_click_in_an_ephemeral_from_a_grid_payload_is_applied(grid: BotHarness) -> None:
    _answered_by_dm(grid)
    grid.slack.slash("forget", user=REP)
    [prompt] = [e for e in grid.sandbox.ephemerals_to(REP) if "forget_cancel" in json.dumps(e.blocks)]
    payload = mapped(load("block_actions_ephemeral_grid_bolt.json"), workspace_ids(W111=REP))
    element, block_id = payloads.find_element(prompt.blocks, "forget_cancel", None) or ({}, "")
    payload["actions"][0].update(action_id="forget_cancel", block_id=block_id, value=element.get("value"))
    payload["container"].update(channel_id=prompt.channel, message_ts=prompt.ts)
    payload["channel"] = {"id": prompt.channel, "name": "directmessage"}
    payload["response_url"] = response_url(grid, prompt.channel, REP, ephemeral_ts=prompt.ts)
    assert send_interaction(grid, payload).status == 200
    assert any("Nothing was deleted" in e.text for e in grid.sandbox.ephemerals_to(REP))
    assert len(answers_of(grid, REP)) == 1


def test_the_block_actions_superset_skips_the_checkin(grid: BotHarness) -> None:
    checkin = open_checkin(grid, REP)
    channel = grid.sandbox.im_channel(REP)
    message = grid.sandbox.workspace.find(channel, str(checkin.message_ts))
    assert message is not None
    payload = load("block_actions_java_superset.json")
    payload["enterprise"] = {"id": ORG, "name": "Org"}
    payload["team"] = {"id": TEAM_ID, "domain": "sandbox", "enterprise_id": ORG, "enterprise_name": "Org"}
    payload["user"] = {"id": REP, "username": "ana", "name": "ana", "team_id": TEAM_ID}
    payload["container"].update(type="message", message_ts=checkin.message_ts, channel_id=channel,
                                thread_ts="", view_id="")
    payload["channel"] = {"id": channel, "name": "directmessage"}
    payload["message"] = message.to_api()
    payload["trigger_id"] = grid.sandbox.view_store.issue_trigger(REP)
    payload["response_url"] = response_url(grid, channel, REP, message_ts=str(checkin.message_ts))
    payload["actions"][0].update(action_id="checkin_skip", block_id=f"checkin_actions_{checkin.id}",
                                 value=str(checkin.id), type="button", action_ts="1.2")
    assert send_interaction(grid, payload).status == 200
    with grid.services.sessions.begin() as session:
        assert session.get(CheckIn, checkin.id).state == "skipped"  # type: ignore[union-attr]


def _answer_modal(bot: BotHarness, user: str) -> dict[str, Any]:
    open_checkin(bot, user)
    bot.slack.click("checkin_answer", user=user)
    [modal] = [v for v in bot.sandbox.views_of(user) if v["type"] == "modal"]
    modal["state"] = {"values": payloads.state_values(modal, {"answer": {"answer_text": "Shipped the pilot"}})}
    return modal


def test_a_grid_view_submission_stores_the_answer(grid: BotHarness) -> None:
    payload = mapped(load("view_submission_grid_bolt.json"), workspace_ids())
    payload["view"] = _answer_modal(grid, GRID_USER)
    payload["trigger_id"] = grid.sandbox.view_store.issue_trigger(GRID_USER)
    response = send_interaction(grid, payload)
    assert response.status == 200 and "errors" not in response.text
    assert [a.text for a in answers_of(grid, GRID_USER)] == ["Shipped the pilot"]


def test_the_view_submission_superset_stores_the_answer(grid: BotHarness) -> None:
    payload = load("view_submission_java_superset.json")
    payload["enterprise"] = {"id": ORG, "name": "Org"}
    payload["team"] = {"id": TEAM_ID, "domain": "sandbox", "enterprise_id": ORG, "enterprise_name": "Org"}
    payload["user"] = {"id": REP, "username": "ana", "name": "ana", "team_id": TEAM_ID}
    payload["view"] = _answer_modal(grid, REP)
    payload["trigger_id"] = grid.sandbox.view_store.issue_trigger(REP)
    response = send_interaction(grid, payload)
    assert response.status == 200 and "errors" not in response.text
    assert [a.text for a in answers_of(grid, REP)] == ["Shipped the pilot"]


def test_view_closed_is_acknowledged_and_saves_nothing(grid: BotHarness) -> None:
    payload = mapped(load("view_closed_bolt.json"), workspace_ids())
    payload["view"]["callback_id"] = "checkin_answer_submit"
    assert send_interaction(grid, payload).status == 200
    assert answers_of(grid, GRID_USER) == []


def test_every_request_payload_file_has_a_replay_here() -> None:
    """A new request-side file in the folder must get its own replay above."""
    source = Path(__file__).read_text(encoding="utf-8")
    request_files = sorted(p.name for p in PAYLOADS.glob("*.json") if not p.name.startswith("webapi_"))
    covered = {name for name in request_files if f'"{name}"' in source}
    assert covered == set(request_files)
