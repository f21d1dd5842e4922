"""The open requests for help at the top of a summary: first, capped, within Slack's block limit."""

from __future__ import annotations

import datetime as dt

from coaching.summary import HelpFact, RepFacts, summarise_team
from handlers.render.summary import summary_pages

NOW = dt.datetime(2026, 3, 9, 15, 0, tzinfo=dt.UTC)


def test_open_requests_come_first_and_a_full_page_stays_within_50_blocks() -> None:
    reps = [RepFacts(rep_id=f"U{i}", name=f"rep {i}", help_requests=(
        HelpFact(id=i, rep_id=f"U{i}", checkin_id=i, goal_text="Close <!channel> deal", detail="blocked on legal",
                 created_at=NOW - dt.timedelta(days=i), answer_id=i),)) for i in range(60)]
    pages = summary_pages(summarise_team(reps, 4, NOW), "Your team", "America/New_York")
    first = [b.to_dict() for b in pages[0].blocks]
    assert first[0]["type"] == "header" and "60 open requests for help" in first[1]["text"]["text"]
    assert "rep 59" in first[1]["text"]["text"], "the oldest request is listed first"
    assert "&lt;!channel&gt;" in first[1]["text"]["text"]
    resolve = [e for b in first if b["type"] == "actions" for e in b["elements"] if e["action_id"] == "help_resolve"]
    assert len(resolve) == 4
    assert all(len(page.blocks) <= 50 for page in pages)
