"""What a pass (or a listener's immediate delivery) did, counted by outcome, for logs and tests."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field


@dataclass
class PassReport:
    counts: dict[str, int] = field(default_factory=dict)
    fatal: str | None = None  # Slack refused the token: the pass stopped (cron should hear of it)

    def add(self, key: str, n: int = 1) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + n

    def get(self, key: str) -> int:
        return self.counts.get(key, 0)

    def merge(self, other: PassReport) -> None:
        for key, n in other.counts.items():
            self.add(key, n)

    def summary(self) -> str:
        if not self.counts:
            return "dispatch: nothing was due"
        return "dispatch: " + ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))


def host_prefix() -> str:
    return f"{socket.gethostname()[:40]}:"


def pass_token() -> str:
    """Who holds a claim: host, process and a random part (claimed_by is 64 characters)."""
    return f"{host_prefix()}{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claimant_gone(token: str | None) -> bool:
    """True when the claim's worker ran on this host and its process no longer exists."""
    if not token or not token.startswith(host_prefix()):
        return False
    pid = token[len(host_prefix()):].split(":", 1)[0]
    if not (pid.isascii() and pid.isdigit()) or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, under another user
    return False
