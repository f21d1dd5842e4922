from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from core.timezones import is_zone, zone

TWENTY = ["Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver", "America/Chicago",
          "America/New_York", "America/Sao_Paulo", "Atlantic/Azores", "Europe/London", "Europe/Berlin",
          "Europe/Athens", "Africa/Nairobi", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Bangkok",
          "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland"]


def test_more_zones_than_zoneinfo_keeps_are_each_loaded_once() -> None:
    first = {name: id(zone(name)) for name in TWENTY}
    assert {name: id(zone(name)) for name in TWENTY} == first
    assert zone("Europe/Berlin") == ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "../etc/passwd", "Europe/Berlin "])
def test_a_name_that_is_no_zone_is_refused_every_time(name: str) -> None:
    assert not is_zone(name)
    with pytest.raises((ZoneInfoNotFoundError, ValueError)):
        zone(name)
    assert not is_zone(name)
