from __future__ import annotations

import datetime as dt

from handlers.text import escape, excerpt, local_time, quote_goal, slack_time, unescape


def test_escape_neutralises_mentions_links_and_broadcasts() -> None:
    text = escape("<!channel> <@U123> <https://evil|click> & co")
    assert "<" not in text and ">" not in text
    assert text == "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil|click&gt; &amp; co"


def test_unescape_undoes_slacks_encoding_once() -> None:
    assert unescape("AT&amp;T &lt;b&gt; &amp;lt;") == "AT&T <b> &lt;"


def test_quote_goal_bolds_escaped_text_without_letting_stars_break_out() -> None:
    assert quote_goal("Win *big* <now>") == "*Win ∗big∗ &lt;now&gt;*"


def test_excerpt_marks_the_cut() -> None:
    assert excerpt("a  b\nc", 10) == "a b c"
    assert excerpt("x" * 20, 10) == "x" * 9 + "…"


def test_local_time_shows_the_recipients_zone() -> None:
    moment = dt.datetime(2026, 3, 9, 17, 0, tzinfo=dt.UTC)
    assert local_time(moment, "America/Los_Angeles") == "Mon 09 Mar, 10:00 PDT"


def test_safe_counts_the_limit_after_escaping_and_never_cuts_an_entity() -> None:
    from handlers.text import safe

    out = safe("&" * 100, 23)
    assert len(out) <= 23 and out.endswith("…")
    assert out[:-1].replace("&amp;", "") == ""  # whole entities only


def test_fit_never_leaves_half_an_entity() -> None:
    from handlers.text import fit

    out = fit("ab&amp;cd", 5)
    assert out == "ab…"


def test_slack_time_is_a_date_token_whose_fallback_is_in_the_viewers_zone() -> None:
    moment = dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC)  # 01:30 EST in New York, after fall-back
    assert slack_time(moment, "America/New_York") == (
        "<!date^1793514600^{date_short_pretty} {time}|Sun 01 Nov, 01:30 EST>")
    assert slack_time(moment, "Europe/Berlin").endswith("|Sun 01 Nov, 07:30 CET>")
