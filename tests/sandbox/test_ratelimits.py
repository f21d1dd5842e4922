"""Emulated rate limits: a bucket per (workspace, method) by tier, chat.postMessage per channel and
per workspace, answered as Slack answers (429, Retry-After, `ratelimited`), on a movable clock."""

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox import RateLimits, Sandbox
from sandbox.server import REPO_ROOT

PAYLOADS = REPO_ROOT.parent / "shared" / "slack-payloads"


class Clock:
    """Seconds that only move when told to."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def started(clock: Clock, **limits: float) -> Sandbox:
    sb = Sandbox.start(clock=clock, rate_limits=RateLimits(**limits))  # type: ignore[arg-type]
    for i in range(30):
        sb.add_user(f"U0REP{i:02d}", name=f"rep{i}")
    return sb


@pytest.fixture
def sb(clock: Clock) -> Iterator[Sandbox]:
    with started(clock) as sandbox:
        yield sandbox


def web(sb: Sandbox, token: str | None = None) -> WebClient:
    client = WebClient(token=token or sb.bot_token, base_url=sb.api_url, timeout=5)
    client.retry_handlers = []  # see each 429 rather than slack_sdk's retry
    return client


def allowed_in_a_row(call: object) -> int:
    """How many calls pass before the first 429."""
    n = 0
    while True:
        try:
            call()  # type: ignore[operator]
        except SlackApiError as err:
            assert err.response.status_code == 429
            return n
        n += 1
        assert n < 500, "never limited"


def test_off_by_default(clock: Clock) -> None:
    with Sandbox.start(clock=clock) as sb:
        sb.add_user("U0REP1")
        client = web(sb)
        for _ in range(150):
            client.users_info(user="U0REP1")
        assert sb.rate_limited_counts() == {}


def test_a_tier_4_method_allows_its_burst_then_answers_429_like_slack(sb: Sandbox, clock: Clock) -> None:
    client = web(sb)
    burst = math.floor(100 / 60 * 10)  # Tier 4 is ~100 a minute; the bucket holds 10 s of calls
    assert allowed_in_a_row(lambda: client.users_info(user="U0REP01")) == burst
    with pytest.raises(SlackApiError) as err:
        client.users_info(user="U0REP01")
    assert err.value.response.status_code == 429
    assert err.value.response["error"] == "ratelimited"
    assert int(err.value.response.headers["Retry-After"]) >= 1
    clock.now += int(err.value.response.headers["Retry-After"])
    assert client.users_info(user="U0REP01")["ok"]  # the wait it asked for was enough
    assert sb.rate_limited_counts() == {"users.info": 2}
    assert [c.status for c in sb.calls_to("users.info")].count(429) == 2


def test_tiers_come_from_the_method_specs(sb: Sandbox) -> None:
    if sb.spec_dir is None:
        pytest.skip("../shared/slack-spec is not present")
    spec = json.loads((sb.spec_dir / "methods" / "users.list.json").read_text())
    assert spec["rate_limits"] == "t2"
    client = web(sb)
    assert allowed_in_a_row(lambda: client.users_list(limit=5)) == math.floor(20 / 60 * 10)


def test_without_the_spec_folder_the_built_in_tiers_apply(clock: Clock, tmp_path: Path) -> None:
    with Sandbox.start(spec_dir=tmp_path / "absent", clock=clock, rate_limits=RateLimits()) as sb:
        assert sb.spec_dir is None
        client = web(sb)
        assert allowed_in_a_row(lambda: client.users_list(limit=5)) == math.floor(20 / 60 * 10)
        sb.add_user("U0REP1")
        assert allowed_in_a_row(lambda: client.users_info(user="U0REP1")) == math.floor(100 / 60 * 10)


def test_post_message_is_limited_per_channel_with_a_small_burst(sb: Sandbox, clock: Clock) -> None:
    client = web(sb)
    assert allowed_in_a_row(lambda: client.chat_postMessage(channel="U0REP01", text="hi")) == 3
    # The user ID and the IM it opens are one conversation: the same bucket.
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel=sb.im_channel("U0REP01"), text="hi")
    assert client.chat_postMessage(channel="U0REP02", text="hi")["ok"]  # another channel is unaffected
    clock.now += 1.0
    assert client.chat_postMessage(channel="U0REP01", text="again")["ok"]  # ~1 a second refills


def test_a_workspace_cap_limits_posts_across_channels(clock: Clock) -> None:
    with started(clock, workspace_post_cap=5) as sb:
        client = web(sb)
        sent = 0
        for i in range(20):
            try:
                client.chat_postMessage(channel=f"U0REP{i:02d}", text="hi")
                sent += 1
            except SlackApiError as err:
                assert err.response.status_code == 429
        assert sent == 5
        clock.now += 1.0
        assert client.chat_postMessage(channel="U0REP25", text="hi")["ok"]
        assert sb.rate_limited_counts() == {"chat.postMessage": 15}


def test_each_workspace_has_its_own_budget(sb: Sandbox) -> None:
    other = sb.add_workspace("T0OTHER")
    other_user = other.add_user("U0THEM")
    mine, theirs = web(sb), web(sb, sb.bot_token_of("T0OTHER"))
    allowed_in_a_row(lambda: mine.users_info(user="U0REP01"))
    assert theirs.users_info(user=other_user.id)["ok"]
    assert {c.team_id for c in sb.calls_to("users.info") if c.status == 429} == {sb.team_id}


def test_a_limited_call_is_not_carried_out(sb: Sandbox) -> None:
    client = web(sb)
    allowed_in_a_row(lambda: client.chat_postMessage(channel="U0REP03", text="x"))
    assert len(sb.dms_to("U0REP03")) == 3


def test_the_429_matches_the_recorded_slack_answer(sb: Sandbox) -> None:
    path = PAYLOADS / "webapi_ratelimited_pysdk.json"
    if not path.is_file():
        pytest.skip("../shared/slack-payloads is not present")
    real = json.loads(path.read_text())["original"]
    client = web(sb)
    allowed_in_a_row(lambda: client.users_info(user="U0REP01"))
    with pytest.raises(SlackApiError) as err:
        client.users_info(user="U0REP01")
    resp = err.value.response
    assert resp.status_code == real["status"]
    assert resp.data == real["body"]
    headers = {k.lower(): v for k, v in resp.headers.items()}
    assert set(real["headers"]) <= set(headers)
    assert headers["retry-after"].isdigit()


def test_slack_sdks_retry_handler_waits_it_out_on_real_time() -> None:
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    with Sandbox.start(rate_limits=RateLimits(channel_burst=1, channel_posts_per_second=2.0)) as sb:
        sb.add_user("U0REP1")
        client = WebClient(token=sb.bot_token, base_url=sb.api_url, timeout=5,
                           retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
        client.chat_postMessage(channel="U0REP1", text="one")
        client.chat_postMessage(channel="U0REP1", text="two")  # 429 first, then retried after Retry-After
        assert [m.text for m in sb.dms_to("U0REP1")] == ["one", "two"]
        assert sb.rate_limited_counts()["chat.postMessage"] >= 1
