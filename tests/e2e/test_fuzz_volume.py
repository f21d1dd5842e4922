"""The issue's counts: 10,000 fuzzed slash commands and 2,000 malformed HTTP requests, in-process.

0 HTTP 500s, 0 tracebacks, and the log grows by under a small fixed size per rejected request.
Marked slow; it still runs in `make test` (about half a minute).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.e2e.fuzz_cases import FORM, Sender, Tracebacks, impolite, junk, set_up, slash_text
from wiring.harness import BotHarness

# People in several zones message each other here; their hours are not what is tested (see conftest).
ANY_HOUR = True

COMMANDS = 10_000
MALFORMED = 2_000
LOG_BYTES_PER_REJECTION = 100  # the rate-limited reason line, amortised


def malformed(rng: random.Random, in_process: Any) -> tuple[bytes, dict[str, str], int | None]:
    """(body, headers, declared length) of a request Slack would never send."""
    kind = rng.randrange(9)
    text = junk(rng, 200).encode("utf-8", "surrogatepass")
    signed = rng.random() < 0.5
    length: int | None = None
    if kind == 0:
        body = b"\xff\xfe" + text
    elif kind == 1:
        body = json.dumps([junk(rng)]).encode()
    elif kind == 2:
        body = b"payload=" + text
    elif kind == 3:
        body = urlencode({"command": "/checkin", "text": junk(rng), "team_id": "T0SANDBOX"}).encode()
    elif kind == 4:
        body = rng.randbytes(rng.randint(0, 300))
    elif kind == 5:
        body, length = b"x" * 64, 1024 * 1024  # claims 1 MB
    elif kind == 6:
        body = b"payload=" + b"A" * (600 * 1024)  # really over the cap
    elif kind == 7:
        body = json.dumps({"type": "event_callback", "event": junk(rng)}).encode()
    else:
        body = text
    content_type = rng.choice([FORM, "application/json", "text/plain", ""])
    if signed:
        stamp = rng.choice([None, "abc", "", "1" * 30, str(int(time.time()) - 3600)])
        headers = in_process.signed(body, content_type, timestamp=stamp)
    else:
        headers = {"Content-Type": content_type, "X-Slack-Signature": junk(rng, 70),
                   "X-Slack-Request-Timestamp": junk(rng, 12)}
    return body, headers, length


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_ten_thousand_commands_and_two_thousand_malformed_requests(bot: BotHarness, in_process: Any) -> None:
    victim = set_up(bot)
    sender = Sender(bot, in_process)
    watcher = Tracebacks()
    root = logging.getLogger()
    root.addHandler(watcher)
    level = root.level
    root.setLevel(logging.INFO)
    rng = random.Random(14)
    try:
        commands = Counter(sender.slash(slash_text(rng, victim))[0] for _ in range(COMMANDS))
        before = watcher.bytes
        rejected = Counter()
        for _ in range(MALFORMED):
            body, headers, length = malformed(rng, in_process)
            rejected[in_process.post(body, headers, length)[0]] += 1
        grown = watcher.bytes - before
    finally:
        root.removeHandler(watcher)
        root.setLevel(level)
    print(f"\ncommands by status: {dict(commands)}; malformed by status: {dict(rejected)}; "
          f"log grew {grown} bytes for {MALFORMED} rejections")
    assert commands == Counter({200: COMMANDS})
    assert 500 not in rejected and all(400 <= status < 500 for status in rejected)
    assert watcher.tracebacks == 0
    assert grown < LOG_BYTES_PER_REJECTION * MALFORMED
    assert impolite(bot) == []
