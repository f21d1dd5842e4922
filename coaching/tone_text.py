"""Strip what is not the manager's own sentence before the tone classifier reads a message.

Slack markup (``<@U123>``, ``<!channel>``, ``<#C1|deals>``, ``<https://x|label>``), emoji (``:tada:``
and pictographs), quoted lines (``> ...``) and a leading greeting ("Hey <@U1>!", "Morning all,") carry
no tone of the manager's own, so they must not change the label of the sentence around them. A
labelled link keeps its label ("the <https://…|pricing deck>" reads "the pricing deck").
"""

from __future__ import annotations

import re

_LINK_LABEL = re.compile(r"<(?![@#!])[^<>|]*\|([^<>]*)>")
_MARKUP = re.compile(r"<[^<>]*>")
_BARE_URL = re.compile(r"\bhttps?://\S+")
_SHORTCODE = re.compile(r":[a-z0-9_+\-']{1,40}:")
# Pictographs, dingbats, flags, skin tones, variation selectors and joiners: emoji and their glue.
_EMOJI = re.compile(
    "[\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2900-\u297f\u2b00-\u2bff\u3030\u303d\u3297\u3299"
    "\U0001f000-\U0001faff\U0001fc00-\U0001ffff\ufe0e\ufe0f\u200d\u20e3]+"
)
_GREETING_WORDS = (
    r"hi|hey|hello|hiya|heya|yo|howdy|morning|good (?:morning|afternoon|evening)|afternoon|evening|"
    r"hola|buenas|buenos dias|hallo|moin|servus|guten (?:morgen|tag)|salut|bonjour|coucou|oi|ola|ol[aá]|"
    r"bom dia|boa tarde"
)
_GREETING_TARGET = (
    r"(?:all|team|everyone|everybody|folks|guys|y'?all|there|friend|equipo|todos|zusammen|"
    r"(?-i:[A-Z\u00c0-\u00de][\w'\u00e0-\u00ff-]*))"
)
# "hey hey,", "Hi Jess!", "Morning all -", "Hallo Jonas," — only when a separator follows, so the
# "hey" of "hey can you call Acme" is left alone if nothing marks where the greeting ends.
_GREETING = re.compile(
    rf"^\s*(?:(?:{_GREETING_WORDS})\b[ ]*)+(?:{_GREETING_TARGET}[ ]*){{0,2}}(?:[,!.:;\-\u2013\u2014]+|\s*\n)\s*",
    re.IGNORECASE,
)
_SPACE = re.compile(r"[ \t]+")


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def strip_quotes(text: str) -> str:
    """Drop ``>`` quoted lines (what someone else wrote); keep them if they are all there is."""
    lines = text.split("\n")
    own = [line for line in lines if not line.lstrip().startswith((">", "&gt;"))]
    return "\n".join(own) if any(line.strip() for line in own) else text


def clean(text: str) -> str:
    """The manager's own words: no markup, emoji, quotes or leading greeting; spacing collapsed."""
    text = strip_quotes(text.replace("\r\n", "\n").replace("\\n", "\n"))
    text = _LINK_LABEL.sub(r"\1", text)
    text = _MARKUP.sub(" ", text)
    text = _unescape(text)
    text = _BARE_URL.sub(" ", text)
    text = _SHORTCODE.sub(" ", text)
    text = _EMOJI.sub(" ", text)
    text = text.replace("`", "")
    text = _SPACE.sub(" ", text).strip()
    for _ in range(3):  # "Hi team, morning Marco." — greetings can stack
        greeted = _GREETING.sub("", text, count=1)
        if greeted == text or not greeted.strip():  # a message that is only a greeting keeps it
            break
        text = greeted
    return " ".join(text.split())
