"""IANA zones by name, kept once loaded.

zoneinfo keeps only the last 8 zones it was asked for (plus those still referenced), so with people
in 20 zones nearly every `ZoneInfo(name)` that is not held somewhere re-read its file from disk:
a third of the CPU of storing a users.list page.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """ZoneInfo(name), the same object every time. Raises as ZoneInfo does (not cached)."""
    return ZoneInfo(name)


def is_zone(name: str) -> bool:
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
