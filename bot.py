"""Entry point: `python bot.py <command>` and the `checkin-bot` console script run this."""

from __future__ import annotations

import sys

from wiring.cli import main as _main


def main() -> int:
    return _main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
