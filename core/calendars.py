"""Public-holiday calendars by country or region (`holiday_calendar = "DE-BY"`), from `holidays`.

A code is an ISO 3166-1 country, optionally with a subdivision after a hyphen ("US", "US-CA",
"DE-BY"). Lookups are per (code, year) and cached, so a pass asks the library once per year.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays


def split_code(code: str) -> tuple[str, str | None]:
    country, _, subdivision = code.strip().partition("-")
    return country.upper(), (subdivision or None)


def check_calendar(code: str) -> str:
    """`code` if the library knows it, else ValueError with a one-line reason."""
    country, subdivision = split_code(code)
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise ValueError(f"{code!r} is not a known holiday calendar; use an ISO country code, "
                         "optionally with a region, like \"US\", \"DE-BY\" or \"GB-SCT\"")
    if subdivision is not None:
        regions = {s.upper(): s for s in supported[country]}
        if subdivision.upper() not in regions:
            raise ValueError(f"{code!r} is not a known holiday calendar: {country} has no region "
                             f"{subdivision!r} (known: {', '.join(supported[country][:12])}"
                             f"{', ...' if len(supported[country]) > 12 else ''})")
    return code


@lru_cache(maxsize=256)
def calendar_days(code: str, year: int) -> frozenset[dt.date]:
    """The public holidays of one year in that calendar (a validated code)."""
    country, subdivision = split_code(code)
    if subdivision is not None:
        regions = {s.upper(): s for s in holidays.list_supported_countries()[country]}
        subdivision = regions.get(subdivision.upper(), subdivision)
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())


def is_calendar_holiday(code: str | None, day: dt.date) -> bool:
    return code is not None and day in calendar_days(code, day.year)
