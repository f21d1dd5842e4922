"""A team's check-ins as CSV, one row per check-in. Pure: rows in, text out.

Times are given twice: in UTC (ISO 8601, `Z`) for sorting and joining, and in the rep's own zone
(ISO 8601 with its offset) for reading. Every cell that a spreadsheet would take as a formula
(starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with a quote, so an
answer like `=HYPERLINK(…)` stays text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

COLUMNS = ("rep", "rep_id", "rep_zone", "goal", "kind", "state", "due_utc", "due_local", "sent_utc", "sent_local",
           "answered_utc", "answered_local", "confidence", "help_wanted", "answer")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CheckinRow:
    rep_id: str
    rep_name: str
    rep_zone: str  # IANA name
    goal: str | None
    kind: str
    state: str
    due_at: dt.datetime
    sent_at: dt.datetime | None
    answered_at: dt.datetime | None
    answer: str | None
    confidence: int | None
    help_wanted: bool | None  # None: no answer


def cell(value: str) -> str:
    """A cell as text a spreadsheet won't run."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def utc(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


def local(moment: dt.datetime | None, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).isoformat(timespec="minutes") if moment else ""


def values(row: CheckinRow) -> list[str]:
    return [row.rep_name, row.rep_id, row.rep_zone, row.goal or "", row.kind, row.state,
            utc(row.due_at), local(row.due_at, row.rep_zone), utc(row.sent_at), local(row.sent_at, row.rep_zone),
            utc(row.answered_at), local(row.answered_at, row.rep_zone),
            "" if row.confidence is None else str(row.confidence),
            "" if row.help_wanted is None else ("yes" if row.help_wanted else "no"), row.answer or ""]


def to_csv(rows: Iterable[CheckinRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([cell(v) for v in values(row)])
    return out.getvalue()
