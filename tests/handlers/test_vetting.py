"""The request vetter's parts: body shapes, the workspace check, the log limiter, replay expiry."""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.config import parse_config
from core.services import Services
from core.settings import Settings
from handlers import vetting
from handlers.vetting import FORM, Accepted, RateLimitedLog, RequestVetter, foreign, parse_body
from sandbox.client import signature
from storage.models import SeenRequest


def test_parse_body_accepts_slacks_shapes_and_names_what_is_wrong_with_others() -> None:
    assert isinstance(parse_body(b'{"type": "url_verification", "challenge": "c"}', "application/json"), dict)
    assert isinstance(parse_body(b"token=x&ssl_check=1", FORM), dict)
    assert parse_body(b'{"type": "url_verification"}', "application/json") == "url_verification without challenge"
    assert parse_body(b"command=%2Fcheckin&team_id=T1", FORM) == "slash command without user_id"
    assert parse_body(b"a=1&&=&b", FORM) == "malformed form body"
    assert parse_body(b"", FORM) == "form body is neither a command nor an interaction"


@pytest.mark.parametrize(("payload", "our_org", "refused"), [
    ({"team_id": "T1"}, None, False),
    ({"team_id": "T2"}, None, True),
    ({"team_id": "T1", "enterprise_id": "E9"}, None, True),
    ({"team_id": "T1", "enterprise_id": "E9"}, "E1", True),
    ({"team": {"id": "T1"}, "enterprise": {"id": "E1"}}, "E1", False),
    ({"team": None, "user": {"id": "U1", "team_id": "T1"}}, None, False),
    ({"type": "block_actions", "user": {"id": "U1"}}, None, True),  # names no workspace at all
    ({"type": "url_verification", "challenge": "c"}, None, False),
])
def test_only_our_workspace_and_org_get_through(payload: dict[str, Any], our_org: str | None, refused: bool) -> None:
    assert foreign(payload, "T1", our_org) is refused


def test_the_log_limiter_counts_what_it_drops() -> None:
    now = [0.0]
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("test.limiter")
    logger.addHandler(Keep())
    limiter = RateLimitedLog(logger, per_minute=2, clock=lambda: now[0])
    for _ in range(5):
        limiter.warning("refused %s", "x")
    now[0] = 61.0
    limiter.warning("refused %s", "y")
    assert records == ["refused x", "refused x", "refused y (3 similar lines suppressed)"]


def test_replay_digests_expire_with_the_signature_window(sessions: sessionmaker[Session], engine: Any) -> None:
    now = [1_000_000.0]
    services = Services(settings=Settings(signing_secret="s"), config=parse_config(""), engine=engine,
                        sessions=sessions, client=None, team_id="T1")  # type: ignore[arg-type]
    vetter = RequestVetter(services, clock=lambda: now[0])
    form = {"command": "/checkin", "user_id": "U1", "team_id": "T1", "text": "help"}

    def send(n: int) -> Accepted:
        body = urlencode({**form, "text": f"help {n}"}).encode()
        stamp = str(int(now[0]))
        verdict = vetter.vet({"x-slack-request-timestamp": stamp, "x-slack-signature": signature("s", stamp, body)},
                             body, FORM)
        assert isinstance(verdict, Accepted)
        return verdict

    for n in range(vetting.PURGE_EVERY - 1):
        assert not send(n).replay
    now[0] += 2 * vetting.SIGNATURE_WINDOW_SECONDS
    send(-1)  # the PURGE_EVERY-th recorded request purges what can no longer be replayed
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(SeenRequest)) == 1


def test_a_replay_is_recognised_by_another_replica(bot: Any) -> None:
    from wiring.server import WsgiApp

    first = WsgiApp(bot.app, bot.services.engine, services=bot.services)
    second = WsgiApp(bot.app, bot.services.engine, services=bot.services)  # shares only the database
    body = urlencode({"command": "/checkin", "user_id": "U0REP1", "team_id": bot.services.team_id,
                      "text": "goal add Win Acme", "response_url": "", "trigger_id": ""}).encode()
    stamp = str(int(time.time()))
    headers = {"x-slack-request-timestamp": stamp, "x-slack-signature": signature("sandbox-signing-secret", stamp, body)}
    assert not first.vetter.vet(headers, body, FORM).replay  # type: ignore[union-attr]
    assert second.vetter.vet(headers, body, FORM).replay  # type: ignore[union-attr]
