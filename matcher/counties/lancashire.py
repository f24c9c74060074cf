"""Lancashire's geography and the default settings calibrated to DOMAIN.md.

Districts and areas are the specification's (3.1.1): North, Central and East, with
Blackpool and Blackburn with Darwen known as neighbouring areas whose children the council
does not serve. Travel times are estimated from the districts' main towns: straight-line
distance times 1.25 for roads, at 60 km/h, or 50 km/h to or from a rural district, plus
8 minutes to set off and park; 12 minutes within a district.

Rates are the engine's assumptions, not published figures (the documents give none for
the hourly rate): £24.50 a staff-hour from April 2026 with a 3 % uplift, and £455 a
bed-night, which is Warwickshire's 4-bed block contract (£0.664m a year) divided by
4 × 365 nights.
"""

from __future__ import annotations

import math
from datetime import date

from matcher.model import District, Settings, TimeSlot, Weekday

#: (id, name, area, latitude, longitude, rural)
PLACES: list[tuple[str, str, str, float, float, bool]] = [
    ("lancaster", "Lancaster", "North", 54.047, -2.801, True),
    ("fylde", "Fylde", "North", 53.781, -2.874, False),
    ("wyre", "Wyre", "North", 53.874, -2.853, True),
    ("preston", "Preston", "Central", 53.763, -2.703, False),
    ("chorley", "Chorley", "Central", 53.653, -2.632, False),
    ("south_ribble", "South Ribble", "Central", 53.696, -2.692, False),
    ("west_lancashire", "West Lancashire", "Central", 53.568, -2.885, True),
    ("burnley", "Burnley", "East", 53.789, -2.248, False),
    ("pendle", "Pendle", "East", 53.836, -2.214, True),
    ("rossendale", "Rossendale", "East", 53.701, -2.287, True),
    ("hyndburn", "Hyndburn", "East", 53.753, -2.364, False),
    ("ribble_valley", "Ribble Valley", "East", 53.871, -2.393, True),
]
NEIGHBOURS: list[tuple[str, str, str, float, float, bool]] = [
    ("blackpool", "Blackpool", "Blackpool (separate council)", 53.817, -3.036, False),
    (
        "blackburn_with_darwen",
        "Blackburn with Darwen",
        "Blackburn with Darwen (separate council)",
        53.748,
        -2.482,
        False,
    ),
]

DAYS: list[tuple[Weekday, str]] = [
    (Weekday.MON, "Monday"),
    (Weekday.TUE, "Tuesday"),
    (Weekday.WED, "Wednesday"),
    (Weekday.THU, "Thursday"),
    (Weekday.FRI, "Friday"),
    (Weekday.SAT, "Saturday"),
    (Weekday.SUN, "Sunday"),
]
#: Parts of a day. On school days the afternoon slot is "after school".
PARTS: list[str] = ["morning", "afternoon", "evening", "night"]


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1 = map(math.radians, a)
    lat2, lon2 = map(math.radians, b)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371 * math.asin(math.sqrt(h))


Place = tuple[str, str, str, float, float, bool]


def travel_minutes(places: list[Place] | None = None) -> dict[str, dict[str, float]]:
    """Estimated minutes by road between every pair of places (see the module docstring)."""
    places = places if places is not None else PLACES + NEIGHBOURS
    table: dict[str, dict[str, float]] = {}
    for origin, _, _, lat1, lon1, rural1 in places:
        row: dict[str, float] = {}
        for destination, _, _, lat2, lon2, rural2 in places:
            if origin == destination:
                row[destination] = 12.0
                continue
            road_km = 1.25 * _km((lat1, lon1), (lat2, lon2))
            speed = 50.0 if (rural1 or rural2) else 60.0
            row[destination] = round(8 + 60 * road_km / speed)
        table[origin] = row
    return table


def time_slots() -> list[TimeSlot]:
    """The 28 weekly slots: seven days by morning, afternoon, evening and night."""
    slots = []
    for day, day_name in DAYS:
        for part in PARTS:
            school_day = day not in (Weekday.SAT, Weekday.SUN)
            label = (
                f"{day_name} after school"
                if part == "afternoon" and school_day
                else (f"{day_name} {part}")
            )
            slots.append(TimeSlot(id=f"{day.value}_{part}", label=label, day=day, part=part))
    return slots


def settings(planning_date: date = date(2026, 11, 2)) -> Settings:
    """Lancashire-shaped settings; the rates are the engine's stated assumptions."""
    return Settings(
        council="Lancashire County Council",
        planning_date=planning_date,
        fixed_hourly_rate=24.50,
        rate_effective_from=date(2026, 4, 1),
        annual_uplift=0.03,
        night_rate=455.0,
        districts=[District(id=i, name=n, area=a) for i, n, a, *_ in PLACES],
        neighbouring_areas=[District(id=i, name=n, area=a) for i, n, a, *_ in NEIGHBOURS],
        travel_minutes=travel_minutes(),
        time_slots=time_slots(),
    )
