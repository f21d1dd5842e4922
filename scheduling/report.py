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


def pass_token() -> str:
    """Who holds a claim: host, process and a random part (claimed_by is 64 characters)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
