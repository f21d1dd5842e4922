"""Map TOML key paths to line numbers, so config errors can name the line.

`tomllib` gives no positions, so we scan the text once. The scanner understands what an
admin config uses: `[table]`, `[[array.of.tables]]`, `key = value` (dotted keys too) and
one-line inline tables. A multi-line array is attributed to its first line, which is the
line an admin would look at.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Path = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*=""")
_INLINE_KEY = re.compile(r"""[{,]\s*([A-Za-z0-9_\-]+|"[^"]*")\s*=""")


def _split_key(raw: str) -> list[str]:
    return [part.strip().strip("\"'") for part in raw.split(".")]


class LineIndex:
    """Key path -> first line (1-based) where it is defined."""

    def __init__(self, text: str) -> None:
        self._lines: dict[Path, int] = {}
        self._build(text)

    def _build(self, text: str) -> None:
        table: list[str | int] = []
        array_counts: dict[tuple[str | int, ...], int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header and not line.lstrip().startswith("#"):
                names = _split_key(header.group(2))
                if header.group(1) == "[[":
                    key = tuple(names)
                    index = array_counts.get(key, -1) + 1
                    array_counts[key] = index
                    table = [*names, index]
                else:
                    table = list(names)
                self._lines.setdefault(tuple(table), number)
                continue
            match = _KEY.match(line)
            if not match:
                continue
            path = (*table, *_split_key(match.group(1)))
            self._lines.setdefault(path, number)
            rest = line[match.end():]
            for inner in _INLINE_KEY.finditer(rest):
                self._lines.setdefault((*path, inner.group(1).strip('"')), number)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of the longest known prefix of `path` (a list index falls back to its key)."""
        parts = tuple(path)
        while parts:
            if parts in self._lines:
                return self._lines[parts]
            parts = parts[:-1]
        return None
