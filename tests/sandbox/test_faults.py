"""Faults: latency, 429 with Retry-After, 5xx, timeouts, and Slack errors for one user."""

import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler

from sandbox import Sandbox


def test_latency_delays_every_call(sb: Sandbox, web: WebClient) -> None:
    sb.faults.latency(0.05)
    start = time.monotonic()
    web.auth_test()
    assert time.monotonic() - start >= 0.05
    sb.faults.clear()
    start = time.monotonic()
    web.auth_test()
    assert time.monotonic() - start < 0.05


def test_rate_limit_answers_429_with_retry_after(sb: Sandbox, web: WebClient) -> None:
    sb.faults.rate_limit("chat.postMessage", times=1, retry_after=7)
    with pytest.raises(SlackApiError) as err:
        web.chat_postMessage(channel="U0REP1", text="hi")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"
    assert err.value.response["error"] == "ratelimited"
    assert sb.dms_to("U0REP1") == []
    web.chat_postMessage(channel="U0REP1", text="hi")  # only the next call was limited
    assert [c.status for c in sb.calls_to("chat.postMessage")] == [429, 200]


def test_web_client_with_the_rate_limit_handler_retries_and_succeeds(sb: Sandbox) -> None:
    web = WebClient(token=sb.bot_token, base_url=sb.api_url, retry_handlers=[RateLimitErrorRetryHandler()])
    sb.faults.rate_limit("chat.postMessage", times=1, retry_after=0)
    assert web.chat_postMessage(channel="U0REP1", text="hi")["ok"]
    assert [c.status for c in sb.calls_to("chat.postMessage")] == [429, 200]
    assert len(sb.dms_to("U0REP1")) == 1


def test_server_errors_for_the_next_calls_then_recovery(sb: Sandbox, web: WebClient) -> None:
    sb.faults.server_error("users.info", times=2, status=503)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            web.users_info(user="U0REP1")
        assert err.value.response.status_code == 503
    assert web.users_info(user="U0REP1")["ok"]
    retrying = WebClient(token=sb.bot_token, base_url=sb.api_url, retry_handlers=[ServerErrorRetryHandler()])
    sb.faults.server_error(None, times=1, status=500)
    assert retrying.auth_test()["ok"]


def test_a_timeout_loses_the_call_unless_told_to_apply_it(sb: Sandbox) -> None:
    impatient = WebClient(token=sb.bot_token, base_url=sb.api_url, timeout=0.2)  # type: ignore[arg-type]
    sb.faults.timeout("chat.postMessage", times=1, seconds=0.5)
    with pytest.raises(TimeoutError):
        impatient.chat_postMessage(channel="U0REP1", text="lost")
    time.sleep(0.4)
    assert sb.dms_to("U0REP1") == []
    sb.faults.timeout("chat.postMessage", times=1, seconds=0.3, apply=True)
    with pytest.raises(TimeoutError):
        impatient.chat_postMessage(channel="U0REP1", text="done but unanswered")
    time.sleep(0.3)
    assert [m.text for m in sb.dms_to("U0REP1")] == ["done but unanswered"]


def test_slack_errors_hit_only_calls_targeting_that_user(sb: Sandbox, web: WebClient) -> None:
    sb.faults.slack_error("users.info", "user_not_found", user="U0REP1")
    sb.faults.slack_error("chat.postMessage", "account_inactive", user="U0REP2", times=1)
    with pytest.raises(SlackApiError) as err:
        web.users_info(user="U0REP1")
    assert err.value.response["error"] == "user_not_found"
    assert web.users_info(user="U0REP2")["ok"]
    im = web.conversations_open(users="U0REP2")["channel"]["id"]
    with pytest.raises(SlackApiError) as err:
        web.chat_postMessage(channel=im, text="hi")  # the IM counts as targeting its user
    assert err.value.response["error"] == "account_inactive"
    assert web.chat_postMessage(channel="U0REP2", text="hi")["ok"]
    with pytest.raises(SlackApiError):
        web.users_info(user="U0REP1")  # no `times`: until cleared
    sb.faults.clear()
    assert web.users_info(user="U0REP1")["ok"]


def test_a_slack_error_for_every_call_of_a_method(sb: Sandbox, web: WebClient) -> None:
    sb.faults.slack_error("chat.postMessage", "cannot_dm_bot", times=2)
    for user in ("U0REP1", "U0MGR"):
        with pytest.raises(SlackApiError) as err:
            web.chat_postMessage(channel=user, text="hi")
        assert err.value.response["error"] == "cannot_dm_bot"
    assert web.chat_postMessage(channel="U0REP1", text="hi")["ok"]
