"""Text safety for mrkdwn: user text is escaped so it can never ping, link or mention.

Slack asks apps to escape `&`, `<` and `>` in mrkdwn; with those escaped, `<!channel>`,
`<@U…>` and `<https://…|…>` show literally. See https://api.slack.com/reference/surfaces/formatting#escaping
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Slack sends message and command text with `&`, `<`, `>` encoded; store what the person typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# Slack's limit for a section's text and for most mrkdwn text objects.
MAX_SECTION_CHARS = 3000


def safe(text: str, limit: int) -> str:
    """Escape `text` and shorten it so the *escaped* form fits in `limit` characters.

    Truncating first and escaping after would let `&` grow fivefold past Slack's limits.
    """
    text = " ".join(text.split())
    whole = escape(text)
    if len(whole) <= limit:
        return whole
    out: list[str] = []
    used = 0
    for char in text:
        piece = escape(char)
        if used + len(piece) > limit - 1:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out).rstrip() + "…"


def fit(mrkdwn: str, limit: int = MAX_SECTION_CHARS) -> str:
    """Last-resort cap for already-escaped text, never cutting inside an `&amp;`-style entity."""
    if len(mrkdwn) <= limit:
        return mrkdwn
    cut = mrkdwn[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def excerpt(text: str, limit: int) -> str:
    """Shorten for display (never for storage), marking the cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def quote_goal(text: str, limit: int = 1500) -> str:
    # Bold the goal; strip our own markup characters so the user's text can't break the bolding.
    return f"*{safe(text, limit).replace('*', '∗')}*"


def quote(text: str, limit: int) -> str:
    """User text as a mrkdwn quote, escaped, within `limit` characters after escaping."""
    return "> " + safe(text, limit - 2)


def local_time(moment: dt.datetime, zone: str) -> str:
    """Plain text, in `zone`: for places Slack shows as typed (plain_text fields, headers, files)."""
    local = moment.astimezone(ZoneInfo(zone))
    return local.strftime("%a %d %b, %H:%M ") + (local.tzname() or zone)


def slack_time(moment: dt.datetime, viewer_zone: str) -> str:
    """A time for mrkdwn: Slack shows each viewer the moment in their own zone and 12- or 24-hour
    format (https://api.slack.com/reference/surfaces/formatting#date-formatting). The fallback, for
    clients that can't, is in the zone of the person reading it, never the subject's or UTC."""
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{local_time(moment, viewer_zone)}>"


def mention(user_id: str) -> str:
    return f"<@{user_id}>"
