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


def excerpt(text: str, limit: int) -> str:
    """Shorten for display (never for storage), marking the cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def quote_goal(text: str) -> str:
    # Bold the goal; strip our own markup characters so the user's text can't break the bolding.
    return f"*{escape(text).replace('*', '∗')}*"


def local_time(moment: dt.datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    return local.strftime("%a %d %b, %H:%M ") + (local.tzname() or zone)


def mention(user_id: str) -> str:
    return f"<@{user_id}>"
