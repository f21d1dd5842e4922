"""What the sandbox records: Web API calls (and response_url posts) and check violations."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sandbox.checks import Violation


@dataclass(frozen=True)
class Call:
    """One Web API call as the sandbox saw it (the token is left out of `args`)."""

    method: str
    args: dict[str, Any]
    response: dict[str, Any]
    at: float
    status: int = 200
    team_id: str = ""  # the workspace the call acted in (by its token)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))



class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[Call] = []
        self.violations: list[Violation] = []

    def violate(self, found: list[Violation]) -> None:
        with self.lock:
            self.violations.extend(found)

    def call(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)
