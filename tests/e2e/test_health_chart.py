"""`/checkin health` carries a PNG trend chart: drawn by the outbox worker, uploaded, shown with alt text.

The report itself (text bars) comes at once through response_url; the chart follows in the
manager's DM as an image block on a privately uploaded file. When Slack won't take the file, the
DM carries the same trends as text bars instead, and the report still shows the bars.
"""

from __future__ import annotations

import datetime as dt
import io
import struct

from PIL import Image

from core.clock import ManualClock
from handlers.render.outbox import HEALTH_CHART_FILENAME
from wiring.harness import BotHarness

ANY_HOUR = True
MANAGER = "U0MANAGER"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _touch_ana_four_times(bot: BotHarness, clock: ManualClock) -> None:
    bot.dispatch()
    for day in range(4):
        bot.slack.slash(f"ask @ana What would help you most this week? ({day})", user=MANAGER)
        clock.advance(dt.timedelta(hours=20))
    bot.slack.click("ask_send_anyway", user=MANAGER)  # the fourth was held by the budget


def _report_texts(bot: BotHarness) -> str:
    reports = [e for e in bot.sandbox.ephemerals_to(MANAGER) if e.source != "ack"]
    return "\n".join(str(e.blocks) + e.text for e in reports)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_health_report_sends_a_readable_png_chart_with_alt_text_stating_the_figures(
        bot: BotHarness, clock: ManualClock) -> None:
    _touch_ana_four_times(bot, clock)
    bot.sandbox.reset_records()
    bot.slack.slash("health", user=MANAGER)

    report = _report_texts(bot)
    assert "Frequency" in report and "8 wk" in report and "▁" in report + "█", "the text bars are still there"
    assert "follows in our DM" in report

    [png] = [f for f in bot.sandbox.files if f.filename == HEALTH_CHART_FILENAME]
    assert png.completed and png.channels == [], "uploaded privately, shown only through the message"
    assert png.content is not None
    width, height = _png_size(png.content)
    assert width >= 800 and height >= 500
    with Image.open(io.BytesIO(png.content)) as decoded:  # the whole file decodes, not only its header
        decoded.load()
        assert decoded.size == (width, height) and len(decoded.getcolors(maxcolors=1 << 16) or ()) > 20, "a drawing, not a blank"
    # Ana had 4 touches in the last 7 days against a line of 3; the alt text says so in words.
    assert png.alt_txt is not None
    assert "Frequency (line 3 touches in 7 days)" in png.alt_txt and "ana 4" in png.alt_txt
    assert len(png.alt_txt) <= 1000

    [dm] = [m for m in bot.sandbox.dms_to(MANAGER) if any(b.get("type") == "image" for b in m.blocks or [])]
    [image] = [b for b in dm.blocks or [] if b.get("type") == "image"]
    assert image["slack_file"]["id"] == png.id
    assert image["alt_text"] == png.alt_txt
    assert dm.metadata is not None and dm.metadata["event_type"] == "team_digest"
    assert "outbox_id" in dm.metadata["event_payload"]
    assert "past a line now" in dm.text
    bot.sandbox.assert_no_violations()


def test_when_uploads_are_refused_the_dm_carries_the_trends_as_text_bars(
        bot: BotHarness, clock: ManualClock) -> None:
    _touch_ana_four_times(bot, clock)
    bot.sandbox.faults.slack_error("files.getUploadURLExternal", "file_uploads_disabled")
    bot.slack.slash("health", user=MANAGER)

    assert "Frequency" in _report_texts(bot), "the report's own bars arrive whatever happens to the chart"
    assert not [f for f in bot.sandbox.files if f.filename == HEALTH_CHART_FILENAME]
    [dm] = [m for m in bot.sandbox.dms_to(MANAGER) if "past a line now" in m.text]
    shown = str(dm.blocks)
    assert not any(b.get("type") == "image" for b in dm.blocks or [])
    assert "Frequency" in shown and "now 4 (line 3 touches in 7 days)" in shown
    assert any(ch in shown for ch in "▁▂▃▄▅▆▇█")
    bot.sandbox.assert_no_violations()


def test_a_chart_slack_cannot_take_now_is_retried_and_the_report_says_the_bars_hold(
        bot: BotHarness, clock: ManualClock) -> None:
    _touch_ana_four_times(bot, clock)
    bot.sandbox.faults.server_error("files.getUploadURLExternal", times=50)
    bot.slack.slash("health", user=MANAGER)
    report = _report_texts(bot)
    assert "Frequency" in report
    assert not [m for m in bot.sandbox.dms_to(MANAGER) if "past a line now" in m.text]
    bot.sandbox.faults.clear()
    clock.advance(dt.timedelta(minutes=5))
    bot.dispatch()  # the row backed off and is posted by a later pass, once
    assert len([m for m in bot.sandbox.dms_to(MANAGER) if "past a line now" in m.text]) == 1
    bot.dispatch()
    assert len([m for m in bot.sandbox.dms_to(MANAGER) if "past a line now" in m.text]) == 1
    assert io.BytesIO(next(f.content for f in bot.sandbox.files if f.filename == HEALTH_CHART_FILENAME)
                      or b"").read(8) == PNG_SIGNATURE
