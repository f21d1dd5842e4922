"""Malformed, oversized, unsigned, foreign and replayed requests: a 4xx (or a no-op), never a 500,
and nothing from an unauthenticated body in the log."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from sandbox.client import http_transport
from sandbox.models import TEAM_ID
from storage.models import Goal
from wiring.harness import SIGNING_SECRET, BotHarness

# People in several zones message each other here; their hours are not what is tested (see conftest).
ANY_HOUR = True

FORM = "application/x-www-form-urlencoded"
SECRET_TEXT = "pricing-secret-4711"


def slash_form(bot: BotHarness, text: str, user: str = "U0REP1", **changes: str) -> dict[str, str]:
    form = {"token": "x", "team_id": TEAM_ID, "team_domain": "sandbox", "channel_id": bot.sandbox.im_channel(user),
            "channel_name": "directmessage", "user_id": user, "user_name": "ana", "command": "/checkin",
            "text": text, "api_app_id": "A0SANDBOX", "is_enterprise_install": "false",
            "response_url": f"{bot.sandbox.base_url}/response/none", "trigger_id": "1.2.3"}
    form.update(changes)
    return form


def goals(bot: BotHarness) -> int:
    with bot.services.sessions.begin() as session:
        return session.scalar(select(func.count()).select_from(Goal)) or 0


MALFORMED: list[tuple[str, bytes, str, int]] = [
    ("invalid UTF-8", b"command=%2Fcheckin&text=\xff\xfe", FORM, 400),
    ("a JSON array", b'[{"type": "event_callback"}]', "application/json", 400),
    ("a JSON scalar", b"42", "application/json", 400),
    ("malformed payload=", b"payload=%7Bnot-json", FORM, 400),
    ("a payload that is a list", urlencode({"payload": "[1,2]"}).encode(), FORM, 400),
    ("a form sent as JSON", b"command=%2Fcheckin&text=help&user_id=U0REP1", "application/json", 400),
    ("JSON sent as a form", b'{"type": "event_callback", "event": {}}', FORM, 400),
    ("an unknown content type", b"hello", "text/plain", 400),
    ("an event_callback without an event", b'{"type": "event_callback"}', "application/json", 400),
    ("an interaction without a user", urlencode({"payload": '{"type": "block_actions"}'}).encode(), FORM, 400),
]


@pytest.mark.parametrize("case", MALFORMED, ids=[c[0] for c in MALFORMED])
def test_a_signed_malformed_body_gets_a_4xx(in_process: Any, case: tuple[str, bytes, str, int]) -> None:
    _, body, content_type, expected = case
    status, _ = in_process.post(body, in_process.signed(body, content_type))
    assert status == expected


def test_a_slash_command_without_user_id_gets_400(bot: BotHarness, in_process: Any) -> None:
    form = slash_form(bot, "goal add Win Acme")
    del form["user_id"]
    body = urlencode(form).encode()
    assert in_process.post(body, in_process.signed(body, FORM))[0] == 400
    assert goals(bot) == 0


@pytest.mark.parametrize("stamp", ["abc", "", "1e9", "١٢٣٤٥٦٧٨٩٠", "9" * 40, "-5"])
def test_a_non_numeric_timestamp_gets_401(bot: BotHarness, in_process: Any, stamp: str) -> None:
    body = urlencode(slash_form(bot, "goal add Win Acme")).encode()
    assert in_process.post(body, in_process.signed(body, FORM, timestamp=stamp))[0] == 401
    assert goals(bot) == 0


def test_a_one_megabyte_body_gets_413_over_http_signed_or_not(bot: BotHarness) -> None:
    send = http_transport(bot.url)
    body = b"payload=" + b"A" * (1024 * 1024)
    assert send(body, {"Content-Type": FORM})[0] == 413
    assert send(body, bot.slack.signed_headers(body, FORM))[0] == 413


def test_over_http_every_malformed_request_gets_a_4xx(bot: BotHarness) -> None:
    send = http_transport(bot.url)
    for _, body, content_type, expected in MALFORMED:
        assert send(body, bot.slack.signed_headers(body, content_type))[0] == expected
        assert send(body, {"Content-Type": content_type})[0] == 401  # unsigned: refused before parsing


def test_nothing_from_a_rejected_body_is_logged(bot: BotHarness, in_process: Any,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    form = slash_form(bot, f"goal add {SECRET_TEXT}\nFORGED LOG LINE")
    body = urlencode(form).encode()
    in_process.post(body, {"Content-Type": FORM})  # unsigned
    in_process.post(body, in_process.signed(body, FORM, timestamp="12x"))
    forged = {"X-Slack-Request-Timestamp": in_process.signed(body, FORM)["X-Slack-Request-Timestamp"],
              "X-Slack-Signature": "v0=" + "0" * 64, "Content-Type": FORM}
    in_process.post(body, forged)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert SECRET_TEXT not in logged and form["response_url"] not in logged and "FORGED" not in logged
    assert "refused a request" in logged


def test_rejection_logs_are_rate_limited(bot: BotHarness, in_process: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    body = b"x" * 5000
    for _ in range(500):
        in_process.post(body, {"Content-Type": FORM})
    assert sum(len(r.getMessage()) for r in caplog.records) < 2000


def test_a_signed_command_replayed_in_the_window_is_applied_once(bot: BotHarness) -> None:
    sent: list[tuple[bytes, dict[str, str]]] = []
    http = http_transport(bot.url)

    def recording(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        sent.append((body, headers))
        return http(body, headers)

    client = bot.sandbox.client(recording, SIGNING_SECRET)
    assert client.slash("goal add Win Acme", user="U0REP1").status == 200
    body, headers = sent[-1]
    replay = client.post_raw(body, headers)
    assert replay.status == 200 and replay.body == b""
    assert goals(bot) == 1


def test_a_click_replayed_in_the_window_is_applied_once(bot: BotHarness) -> None:
    for goal in ("First", "Second", "Third"):
        bot.slack.slash(f"goal add {goal}", user="U0REP1")
    bot.slack.slash("goals", user="U0REP1")  # opens the goals modal
    sent: list[tuple[bytes, dict[str, str]]] = []
    http = http_transport(bot.url)

    def recording(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        sent.append((body, headers))
        return http(body, headers)

    client = bot.sandbox.client(recording, SIGNING_SECRET)
    with bot.services.sessions.begin() as session:
        third = session.scalar(select(Goal.id).where(Goal.text == "Third"))
    assert client.click("goal_up", user="U0REP1", value=str(third)).status == 200
    client.post_raw(*sent[-1])
    with bot.services.sessions.begin() as session:
        order = session.scalars(select(Goal.text).order_by(Goal.position)).all()
    assert list(order) == ["First", "Third", "Second"]  # moved up once, not twice


@pytest.mark.parametrize("changes", [{"team_id": "T0ELSEWHERE"}, {"enterprise_id": "E0ELSEWHERE"}])
def test_a_signed_request_from_another_workspace_is_refused(bot: BotHarness, in_process: Any,
                                                             changes: dict[str, str]) -> None:
    body = urlencode(slash_form(bot, "goal add Win Acme", **changes)).encode()
    assert in_process.post(body, in_process.signed(body, FORM))[0] == 403
    event = {"type": "event_callback", "team_id": "T0ELSEWHERE", "event_id": "Ev0X",
             "event": {"type": "message", "channel_type": "im", "user": "U0REP1", "text": "hi", "ts": "1.1"}}
    raw = json.dumps(event).encode()
    assert in_process.post(raw, in_process.signed(raw, "application/json"))[0] == 403
    assert goals(bot) == 0


def test_answers_and_response_urls_stay_out_of_info_logs(bot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    bot.slack.slash("now", user="U0REP1")
    bot.slack.dm("U0REP1", f"My answer mentions {SECRET_TEXT}")
    bot.slack.slash(f"goal add Keep {SECRET_TEXT}", user="U0REP1")
    ours = [r for r in caplog.records if r.levelno >= logging.INFO]
    logged = "\n".join(r.getMessage() for r in ours)
    assert SECRET_TEXT not in logged and "/response/" not in logged and "xoxb-" not in logged
