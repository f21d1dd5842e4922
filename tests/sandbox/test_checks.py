"""Every call is checked against the method spec and Block Kit's limits; failures are violations."""

from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox import Sandbox
from sandbox.checks import check_blocks, check_view
from sandbox.server import DEFAULT_SPEC_DIR

needs_spec = pytest.mark.skipif(not DEFAULT_SPEC_DIR.is_dir(), reason="../shared/slack-spec is not present")


def section(text: str, block_id: str | None = None) -> dict:
    block: dict = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id:
        block["block_id"] = block_id
    return block


def button(action_id: str, text: str = "Go", value: str = "v") -> dict:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}, "value": value}


def kinds(sb: Sandbox) -> list[str]:
    return [v.kind for v in sb.violations]


def post_rejected(web: WebClient, **args: object) -> str:
    with pytest.raises(SlackApiError) as err:
        web.chat_postMessage(channel="U0REP1", **args)
    return str(err.value.response["error"])


@needs_spec
def test_a_missing_required_argument_is_a_violation(sb: Sandbox, web: WebClient) -> None:
    with pytest.raises(SlackApiError):
        web.api_call("chat.postMessage", json={"text": "no channel"})
    [violation] = sb.violations
    assert (violation.method, violation.kind) == ("chat.postMessage", "missing_argument")
    assert "channel" in violation.detail


@needs_spec
def test_a_method_whose_scope_the_manifest_lacks_is_refused(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.yml"
    manifest.write_text("oauth_config:\n  scopes:\n    bot: [chat:write]\n")
    with Sandbox.start(manifest_path=manifest) as sb:
        sb.add_user("U0REP1", name="ana")
        web = WebClient(token=sb.bot_token, base_url=sb.api_url)
        web.chat_postMessage(channel="U0REP1", text="fine")
        with pytest.raises(SlackApiError) as err:
            web.users_info(user="U0REP1")
        assert err.value.response["error"] == "missing_scope"
        assert err.value.response["needed"] == "users:read"
        assert kinds(sb) == ["missing_scope"]


def test_spec_checks_are_skipped_without_the_spec_folder(tmp_path: Path) -> None:
    with Sandbox.start(spec_dir=tmp_path / "absent") as sb:
        web = WebClient(token=sb.bot_token, base_url=sb.api_url)
        with pytest.raises(SlackApiError):
            web.api_call("made.upMethod", json={})
        with pytest.raises(SlackApiError):
            web.api_call("chat.postMessage", json={"text": "no channel"})
        assert sb.violations == []


def test_fifty_one_blocks_in_a_message_are_refused(sb: Sandbox, web: WebClient) -> None:
    assert post_rejected(web, text="x", blocks=[section(str(i)) for i in range(51)]) == "invalid_blocks"
    assert kinds(sb) == ["block_kit"] and "51 blocks > 50" in sb.violations[0].detail
    web.chat_postMessage(channel="U0REP1", text="x", blocks=[section(str(i)) for i in range(50)])
    assert len(sb.violations) == 1


def test_a_3001_char_section_is_refused(sb: Sandbox, web: WebClient) -> None:
    assert post_rejected(web, text="x", blocks=[section("a" * 3001)]) == "invalid_blocks"
    assert "3001 chars > 3000" in sb.violations[0].detail
    web.chat_postMessage(channel="U0REP1", text="x", blocks=[section("a" * 3000)])
    assert len(sb.violations) == 1


def test_a_25_char_modal_title_is_refused(sb: Sandbox, web: WebClient) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "t" * 25}, "blocks": [section("hi")]}
    with pytest.raises(SlackApiError) as err:
        web.views_open(trigger_id=sb.view_store.issue_trigger("U0REP1"), view=view)
    assert err.value.response["error"] == "invalid_arguments"
    assert kinds(sb) == ["block_kit"] and "view.title" in sb.violations[0].detail
    assert sb.views_of("U0REP1") == []


def test_duplicate_block_ids_are_refused(sb: Sandbox, web: WebClient) -> None:
    assert post_rejected(web, text="x", blocks=[section("a", "same"), section("b", "same")]) == "invalid_blocks"
    assert "duplicate block_id 'same'" in sb.violations[0].detail


def test_a_message_without_a_text_fallback_is_a_violation(sb: Sandbox, web: WebClient) -> None:
    web.api_call("chat.postMessage", json={"channel": "U0REP1", "blocks": [section("hi")]})
    web.api_call("chat.postEphemeral", json={"channel": "U0REP1", "user": "U0REP1", "text": "  ",
                                             "blocks": [section("hi")]})
    assert [(v.method, v.kind) for v in sb.violations] == [("chat.postMessage", "text_fallback"),
                                                           ("chat.postEphemeral", "text_fallback")]
    with pytest.raises(AssertionError, match="2 Slack violation"):
        sb.assert_no_violations()


def test_metadata_must_be_valid_json_with_type_and_payload(sb: Sandbox, web: WebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        web.api_call("chat.postMessage", params={"channel": "U0REP1", "text": "x", "metadata": "{not json"})
    assert err.value.response["error"] == "invalid_metadata_format"
    assert post_rejected(web, text="x", metadata={"event_type": "checkin_prompt"}) == "invalid_metadata_format"
    assert kinds(sb) == ["metadata", "metadata"]


def test_an_over_long_message_text_is_refused(sb: Sandbox, web: WebClient) -> None:
    assert post_rejected(web, text="a" * 40001) == "msg_too_long"


def test_element_limits_are_checked() -> None:
    problems = check_blocks([
        {"type": "actions", "block_id": "b" * 256,
         "elements": [button("same"), button("same"), button("long", text="t" * 76, value="v" * 2001)]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "x"}] * 11},
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]},
        {"type": "actions", "elements": [button(f"b{i}") for i in range(26)]},
        {"type": "section", "text": {"type": "mrkdwn", "text": "x"},
         "accessory": {"type": "static_select", "action_id": "a" * 256,
                       "options": [{"text": {"type": "plain_text", "text": "o" * 76}, "value": "1"}]}},
    ])
    joined = "\n".join(problems)
    for expected in ("block_id: 256 chars > 255", "duplicate action_id 'same'", "text: 76 chars > 75",
                     "value: 2001 chars > 2000", "context needs 1 to 10", "blocks[2].text: 151 chars > 150",
                     "at most 10 fields", "fields[0]: 2001 chars > 2000", "actions needs 1 to 25",
                     "action_id: 256 chars > 255", "options[0].text: 76 chars > 75"):
        assert expected in joined, expected


def test_the_same_action_id_in_different_blocks_is_fine() -> None:
    assert check_blocks([{"type": "actions", "elements": [button("go")]},
                         {"type": "actions", "elements": [button("go")]}]) == []


def test_view_limits_are_checked() -> None:
    view = {
        "type": "modal", "title": {"type": "plain_text", "text": "ok"},
        "submit": {"type": "plain_text", "text": "s" * 25}, "close": {"type": "plain_text", "text": "c" * 25},
        "private_metadata": "p" * 3001,
        "blocks": [{"type": "input", "label": {"type": "plain_text", "text": "l"},
                    "element": {"type": "plain_text_input", "action_id": "a", "max_length": 3001}}],
    }
    joined = "\n".join(check_view(view))
    for expected in ("view.submit: 25 chars > 24", "view.close: 25 chars > 24", "private_metadata: 3001 chars",
                     "max_length: 3001 > 3000"):
        assert expected in joined, expected
    home = {"type": "home", "blocks": [{"type": "divider"}] * 100}
    assert check_view(home) == []
    assert check_view({**home, "blocks": [{"type": "divider"}] * 101}) == ["blocks: 101 blocks > 100 in a home"]


def test_with_strict_off_bad_payloads_are_recorded_but_accepted() -> None:
    with Sandbox.start(strict=False) as sb:
        sb.add_user("U0REP1", name="ana")
        web = WebClient(token=sb.bot_token, base_url=sb.api_url)
        assert web.chat_postMessage(channel="U0REP1", text="x", blocks=[section(str(i)) for i in range(51)])["ok"]
        assert kinds(sb) == ["block_kit"] and len(sb.dms_to("U0REP1")) == 1


def test_an_unescaped_angle_bracket_in_mrkdwn_is_a_violation() -> None:
    from sandbox.checks import check_message

    bad = check_message("chat.postMessage", {"channel": "D1", "text": "Use /checkin goal add <text>"})
    assert [v.kind for v in bad] == ["mrkdwn"]
    ok = check_message("chat.postMessage", {
        "channel": "D1", "text": "<@U0REP1> <!here> <https://example.com|a link> &lt;text&gt; <#C012AB|sales>"})
    # Well-formed markup; the broadcast and labelled link are flagged separately, as unsafe_markup.
    assert [v for v in ok if v.kind != "unsafe_markup"] == []
    in_block = check_message("chat.postMessage", {"channel": "D1", "text": "fine", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Goal: <Acme & co>"}}]})
    assert [v.kind for v in in_block] == ["block_kit"] and "unescaped" in in_block[0].detail


def test_live_broadcasts_labelled_mentions_and_links_are_unsafe_markup() -> None:
    from sandbox.checks import UNSAFE_MARKUP, check_message

    for live in ("<!channel>", "<!here|here>", "<@U123|ana>", "<https://evil.example|click>", "<!subteam^S1>"):
        found = check_message("chat.postMessage", {"text": f"hi {live}", "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"x {live}"}}]})
        assert [v.detail.split(":")[0] for v in found if v.kind == UNSAFE_MARKUP] == ["text", "blocks[0].text"]
    safe = check_message("chat.postMessage", {"text": "<@U123> &lt;!channel&gt; <https://ok.example>"})
    assert [v for v in safe if v.kind == UNSAFE_MARKUP] == []
