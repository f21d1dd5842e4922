"""Log lines carry the request's workspace and kind, also from the threads listeners run on,
and Slack's libraries never log their DEBUG dumps unless SLACK_DEBUG asks."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from pythonjsonlogger.json import JsonFormatter

from core import logcontext
from core.settings import Settings, SettingsError
from handlers.observe import request_kind, team_of


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logcontext.ContextFilter())
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("test.logcontext")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def test_fields_follow_the_request_into_the_listener_thread(json_lines: io.StringIO) -> None:
    logcontext.set_fields(workspace="T0ONE", kind="/checkin ask")
    with logcontext.ContextExecutor(max_workers=1) as pool:
        pool.submit(lambda: logging.getLogger("test.logcontext").info("in the listener")).result()
        logcontext.set_fields(workspace="T0TWO", kind="block_actions")
        with logcontext.bind(outbox_id=42):
            pool.submit(lambda: logging.getLogger("test.logcontext").info("next request")).result()
    logcontext.set_fields()
    first, second = (json.loads(line) for line in json_lines.getvalue().splitlines())
    assert (first["workspace"], first["kind"], first.get("outbox_id")) == ("T0ONE", "/checkin ask", None)
    assert (second["workspace"], second["kind"], second["outbox_id"]) == ("T0TWO", "block_actions", 42)


def test_slack_debug_logs_stay_off_unless_asked() -> None:
    try:
        logcontext.configure(logging.DEBUG, json_lines=True, slack_debug=False)
        assert not logging.getLogger("slack_sdk.web.base_client").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("slack_bolt.App").isEnabledFor(logging.DEBUG)
        assert logging.getLogger("scheduling.dispatch").isEnabledFor(logging.DEBUG)
        logcontext.configure(logging.INFO, json_lines=False, slack_debug=True)
        assert logging.getLogger("slack_sdk.web.base_client").isEnabledFor(logging.DEBUG)
    finally:
        logging.getLogger().setLevel(logging.WARNING)
        for name in logcontext.SLACK_LOGGERS:
            logging.getLogger(name).setLevel(logging.NOTSET)


def test_settings_read_the_new_variables_and_refuse_nonsense() -> None:
    settings = Settings.from_env({"LOG_FORMAT": "JSON", "SLACK_DEBUG": "1", "METRICS_PORT": "9102"})
    assert (settings.log_format, settings.slack_debug, settings.metrics_port) == ("json", True, 9102)
    assert Settings.from_env({}).log_format == "text" and not Settings.from_env({}).slack_debug
    for bad in ({"LOG_FORMAT": "xml"}, {"SLACK_DEBUG": "maybe"}, {"METRICS_PORT": "99999"},
                {"METRICS_PORT": "http"}):
        with pytest.raises(SettingsError):
            Settings.from_env(bad)


def test_request_labels_are_bounded() -> None:
    assert request_kind({"command": "/checkin", "text": "health"}) == "/checkin health"
    assert request_kind({"command": "/checkin", "text": "<script> lots of words"}) == "/checkin other"
    assert request_kind({"command": "/checkin", "text": ""}) == "/checkin help"
    assert request_kind({"type": "event_callback", "event": {"type": "message"}}) == "event:message"
    assert request_kind({"type": "view_submission"}) == "view_submission"
    assert team_of({"team": {"id": "T1"}}) == team_of({"team_id": "T1"}) == "T1"
