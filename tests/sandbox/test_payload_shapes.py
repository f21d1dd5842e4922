"""Each recorded Web API answer in ../shared/slack-payloads (webapi_*) against the sandbox's own
answer to the same call: the same keys with the same JSON types, and the same error names.

Spec examples must be matched key for key (a few legacy fields are named, with why, in SKIP);
java-slack-sdk "supersets" merge every field ever seen, so there only the shared keys' types count.
"""

import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox import RateLimits, Sandbox
from sandbox.server import REPO_ROOT

PAYLOADS = REPO_ROOT.parent / "shared" / "slack-payloads"
FILES = sorted(PAYLOADS.glob("webapi_*.json")) if PAYLOADS.is_dir() else []
pytestmark = pytest.mark.skipif(not FILES, reason="../shared/slack-payloads is not present")

MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "Quite a plain modal"},
         "submit": {"type": "plain_text", "text": "Create"}, "private_metadata": "Shh it is a secret",
         "callback_id": "identify_your_modals",
         "blocks": [{"type": "input", "block_id": "a_block_id", "optional": False,
                     "label": {"type": "plain_text", "text": "A simple label", "emoji": True},
                     "element": {"type": "plain_text_input", "action_id": "an_action_id"}}]}
HOME = {"type": "home", "private_metadata": "Shh it is a secret", "callback_id": "identify_your_home_tab",
        "blocks": [{"type": "section", "block_id": "2WGp9",
                    "text": {"type": "mrkdwn", "text": "A simple section with some sample sentence.",
                             "verbatim": False}}]}
# Fields of the documented examples the sandbox leaves out on purpose.
SKIP = {
    # The example is a legacy message posted with a custom `username` (a bot_message subtype);
    # a bot token's post today has no subtype and no username.
    ("webapi_chat_postMessage_spec_examples", "success"): {".message.username", ".message.subtype"},
}


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox.start() as sandbox:
        sandbox.add_user("U0REP1", name="ana", tz="America/Los_Angeles", email="ana@example.com", is_admin=True)
        sandbox.add_user("U0REP2", name="ben")
        yield sandbox


def web(sb: Sandbox, token: str | None = None) -> WebClient:
    client = WebClient(token=token or sb.bot_token, base_url=sb.api_url, timeout=5)
    client.retry_handlers = []
    return client


def answer(call: Callable[[], Any]) -> dict[str, Any]:
    try:
        return dict(call().data)
    except SlackApiError as err:
        return dict(err.response.data)


def kind(value: Any) -> str:
    return "bool" if isinstance(value, bool) else "number" if isinstance(value, int | float) else type(value).__name__


def shape_problems(real: Any, ours: Any, path: str, every_key: bool, skip: set[str]) -> list[str]:
    if real is None or path in skip:
        return []  # null in an example says nothing about the type
    if kind(real) != kind(ours):
        return [f"{path or '.'}: {kind(real)} in Slack's answer, {kind(ours)} in the sandbox's"]
    if isinstance(real, dict):
        out = []
        for key, value in real.items():
            where = f"{path}.{key}"
            if key in ours:
                out += shape_problems(value, ours[key], where, every_key, skip)
            elif every_key and where not in skip:
                out.append(f"{where}: missing from the sandbox's answer")
        return out
    if isinstance(real, list) and real and ours:
        return shape_problems(real[0], ours[0], f"{path}[0]", every_key, skip)
    return []


def upload(sb: Sandbox) -> str:
    client = web(sb)
    got = client.files_getUploadURLExternal(filename="slack-test.txt", length=3)
    urllib.request.urlopen(urllib.request.Request(got["upload_url"], data=b"abc", method="POST"), timeout=5)
    return str(got["file_id"])


def no_token(sb: Sandbox) -> dict[str, Any]:
    with urllib.request.urlopen(urllib.request.Request(f"{sb.api_url}auth.test", data=b"", method="POST"),
                                timeout=5) as resp:
        return dict(json.loads(resp.read()))


def user_message(sb: Sandbox) -> str:
    return sb.workspace.post(sb.im_channel("U0REP1"), "U0REP1", "mine", by_bot=False).ts


def rate_limited(sb: Sandbox) -> dict[str, Any]:
    with Sandbox.start(rate_limits=RateLimits(channel_burst=1)) as limited:
        limited.add_user("U0REP1")
        client = web(limited)
        client.chat_postMessage(channel="U0REP1", text="one")
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel="U0REP1", text="two")
        assert err.value.response.status_code == 429
        assert err.value.response.headers["Retry-After"].isdigit()
        return dict(err.value.response.data)


def opened(sb: Sandbox) -> dict[str, Any]:
    web(sb).conversations_open(users="U0REP1")
    return answer(lambda: web(sb).conversations_open(users="U0REP1", return_im=True))


def reacted_twice(sb: Sandbox) -> dict[str, Any]:
    posted = web(sb).chat_postMessage(channel="U0REP1", text="x")
    web(sb).reactions_add(channel=posted["channel"], timestamp=posted["ts"], name="thumbsup")
    return answer(lambda: web(sb).reactions_add(channel=posted["channel"], timestamp=posted["ts"], name="thumbsup"))


def updated(sb: Sandbox) -> dict[str, Any]:
    posted = web(sb).chat_postMessage(channel="U0REP1", text="first")
    return answer(lambda: web(sb).chat_update(channel=posted["channel"], ts=posted["ts"],
                                              text="Updated text you carefully authored"))


ATTACHMENT = {"text": "This is an attachment", "fallback": "This is an attachment's fallback"}
CASES: dict[tuple[str, str], Callable[[Sandbox], dict[str, Any]]] = {
    ("webapi_auth_test_spec_examples", "success"): lambda sb: answer(web(sb).auth_test),
    ("webapi_auth_test_spec_examples", "success_with_bot_token"): lambda sb: answer(web(sb).auth_test),
    ("webapi_auth_test_spec_examples", "error"): lambda sb: answer(web(sb, "INVALID_TOKEN").auth_test),
    ("webapi_auth_test_spec_examples", "error_with_no_token"): no_token,
    ("webapi_chat_postEphemeral_spec_examples", "success"):
        lambda sb: answer(lambda: web(sb).chat_postEphemeral(channel="U0REP1", user="U0REP1", text="psst")),
    ("webapi_chat_postEphemeral_spec_examples", "error"):
        lambda sb: answer(lambda: web(sb).chat_postEphemeral(channel="U0REP1", user="U0REP2", text="psst")),
    ("webapi_chat_postMessage_spec_examples", "success"):
        lambda sb: answer(lambda: web(sb).chat_postMessage(channel="U0REP1", text="Here's a message for you",
                                                           attachments=[ATTACHMENT])),
    ("webapi_chat_postMessage_spec_examples", "error"):
        lambda sb: answer(lambda: web(sb).chat_postMessage(channel="U0REP1", text="x", attachments=[ATTACHMENT] * 101)),
    ("webapi_chat_postMessage_java_superset", ""):
        lambda sb: answer(lambda: web(sb).chat_postMessage(channel="U0REP1", text="hi")),
    ("webapi_chat_update_spec_examples", "success"): updated,
    ("webapi_chat_update_spec_examples", "error"):
        lambda sb: answer(lambda: web(sb).chat_update(channel=sb.im_channel("U0REP1"), ts=user_message(sb), text="x")),
    ("webapi_conversations_open_spec_examples", "success"):
        lambda sb: answer(lambda: web(sb).conversations_open(users="U0REP1")),
    ("webapi_conversations_open_spec_examples", "success_with_return_im"): opened,
    ("webapi_conversations_open_spec_examples", "error"):
        lambda sb: answer(lambda: web(sb).conversations_open(channel="C0NOPE")),
    ("webapi_files_completeUploadExternal_spec_examples", "success"):
        lambda sb: answer(lambda: web(sb).files_completeUploadExternal(files=[{"id": upload(sb), "title": "slack-test"}])),
    ("webapi_files_completeUploadExternal_spec_examples", "error"):
        lambda sb: answer(lambda: web(sb, "bad").files_completeUploadExternal(files=[{"id": "F1"}])),
    ("webapi_files_getUploadURLExternal_spec_examples", "success"):
        lambda sb: answer(lambda: web(sb).files_getUploadURLExternal(filename="a.txt", length=3)),
    ("webapi_files_getUploadURLExternal_spec_examples", "error"):
        lambda sb: answer(lambda: web(sb, "bad").files_getUploadURLExternal(filename="a.txt", length=3)),
    ("webapi_ratelimited_pysdk", ""): rate_limited,
    ("webapi_reactions_add_spec_examples", "success"):
        lambda sb: answer(lambda: web(sb).reactions_add(channel=(p := web(sb).chat_postMessage(
            channel="U0REP1", text="x"))["channel"], timestamp=p["ts"], name="eyes")),
    ("webapi_reactions_add_spec_examples", "error"): reacted_twice,
    ("webapi_users_info_spec_examples", "success"): lambda sb: answer(lambda: web(sb).users_info(user="U0REP1")),
    ("webapi_users_info_spec_examples", "error"): lambda sb: answer(lambda: web(sb).users_info(user="U0NOBODY")),
    ("webapi_users_info_java_superset", ""): lambda sb: answer(lambda: web(sb).users_info(user="U0REP1")),
    ("webapi_views_open_spec_examples", "success"):
        lambda sb: answer(lambda: web(sb).views_open(trigger_id=sb.view_store.issue_trigger("U0REP1"), view=MODAL)),
    ("webapi_views_open_spec_examples", "error"):
        lambda sb: answer(lambda: web(sb).views_open(trigger_id=sb.view_store.issue_trigger("U0REP1"),
                                                     view={**MODAL, "title": {"type": "plain_text", "text": "x" * 30}})),
    ("webapi_views_publish_spec_examples", "success"):
        lambda sb: answer(lambda: web(sb).views_publish(user_id="U0REP1", view=HOME)),
    ("webapi_views_publish_spec_examples", "error"):
        lambda sb: answer(lambda: web(sb).views_publish(user_id="U0NOBODY", view=HOME)),
}


def examples(path: Path) -> list[tuple[str, Any, bool]]:
    """(name, body, every_key) for each answer the file records."""
    original = json.loads(path.read_text(encoding="utf-8"))["original"]
    if isinstance(original, dict) and original and all(isinstance(v, dict) and "example" in v
                                                       for v in original.values()):
        return [(name, v["example"], True) for name, v in original.items()]
    if isinstance(original, dict) and "status" in original and "body" in original:
        return [("", original["body"], True)]
    return [("", original, False)]  # a java-slack-sdk superset (values masked)


REPLAYS = [(p.stem, name, body, every) for p in FILES for name, body, every in examples(p)]


@pytest.mark.parametrize(("stem", "name", "real", "every_key"), REPLAYS,
                         ids=[f"{s}:{n or 'body'}" for s, n, _, _ in REPLAYS])
def test_the_sandbox_answers_in_slacks_shape(sb: Sandbox, stem: str, name: str, real: Any, every_key: bool) -> None:
    case = CASES.get((stem, name))
    assert case is not None, f"no sandbox call replays {stem} {name!r}: add one to CASES"
    ours = case(sb)
    assert ours.get("ok") is real.get("ok") or not every_key, ours
    if real.get("ok") is False and every_key:
        assert ours.get("error") == real["error"]
    problems = shape_problems(real, ours, "", every_key, SKIP.get((stem, name), set()))
    assert not problems, "\n".join(problems)
