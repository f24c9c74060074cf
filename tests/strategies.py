"""Hypothesis strategies for small valid instances drawn from the whole vocabulary.

Unlike the calibrated generator, these reach the corners: children on an age boundary,
providers with no registrations, a suspended current provider, refusals, zero capacity.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from matcher.counties import lancashire
from matcher.model import (
    Capability,
    Grade,
    Instance,
    Lot,
    Need,
    PriorityFactor,
    RegisteredActivity,
    Regulator,
    StaffRatio,
    UnitSpecialism,
    Weekday,
)

SETTINGS = lancashire.settings(date(2026, 11, 2))
COUNCIL = [d.id for d in SETTINGS.districts]
PLACES = COUNCIL + [d.id for d in SETTINGS.neighbouring_areas]
SLOTS = [s.id for s in SETTINGS.time_slots]


def subset(values: list[Any], max_size: int | None = None) -> st.SearchStrategy[list[Any]]:
    if not values:
        return st.just([])
    return st.lists(st.sampled_from(values), unique=True, max_size=max_size or len(values))


def dates(start: date, days: int) -> st.SearchStrategy[date]:
    return st.integers(0, days).map(lambda d: start + timedelta(days=d))


@st.composite
def ratings(draw: st.DrawFn) -> list[dict[str, Any]]:
    found = []
    for regulator in draw(subset(list(Regulator))):
        found.append(
            {
                "regulator": regulator.value,
                "overall": draw(st.sampled_from(list(Grade))).value,
                "safeguarding": draw(st.none() | st.sampled_from(list(Grade)).map(str)),
                "date": draw(dates(date(2022, 1, 1), 1700)).isoformat(),
            }
        )
    return found


@st.composite
def providers(draw: st.DrawFn, index: int) -> dict[str, Any]:
    off_list = draw(st.booleans())
    min_age = draw(st.integers(0, 12))
    units = []
    if draw(st.integers(0, 3)) == 0:
        beds = draw(st.integers(0, 6))
        units.append(
            {
                "id": f"U-{index}",
                "name": f"Unit {index}",
                "district": draw(st.sampled_from(PLACES)),
                "beds": beds,
                "solo_rooms": draw(st.integers(0, beds)),
                "specialisms": [s.value for s in draw(subset(list(UnitSpecialism), 2))],
                "open_days": [d.value for d in draw(subset(list(Weekday)).filter(bool))],
                "setting": draw(st.sampled_from(["childrens_home", "home_from_home"])),
                "min_age": draw(st.sampled_from([0, 0, 8])),
                "max_age": draw(st.sampled_from([18, 12, 17])),
            }
        )
    return {
        "id": f"P-{index}",
        "name": f"Provider {index}",
        "contract": "off_list" if off_list else "framework",
        "spot_hourly_rate": draw(st.floats(20, 45)) if off_list else None,
        "spot_night_rate": draw(st.floats(400, 700)) if off_list and units else None,
        "base_district": draw(st.sampled_from(PLACES)),
        "districts": draw(subset(COUNCIL, 6).filter(bool)),
        "services": [x.value for x in draw(subset(list(Lot)))],
        "ratios": [x.value for x in draw(subset(list(StaffRatio)))],
        "capabilities": [x.value for x in draw(subset(list(Capability)))],
        "registrations": [x.value for x in draw(subset(list(RegisteredActivity)))],
        "ratings": draw(ratings()),
        "min_age": min_age,
        "max_age": draw(st.integers(min_age, 25)),
        "staff_hours": (
            hours := draw(st.dictionaries(st.sampled_from(SLOTS), st.floats(0, 40), max_size=6))
        ),
        "workers": {
            slot: draw(st.integers(1, 4))
            for slot in hours
            if hours[slot] > 0 and draw(st.booleans())
        },
        "units": units,
    }


@st.composite
def referrals(draw: st.DrawFn, index: int, provider_ids: list[str]) -> dict[str, Any]:
    service = draw(st.sampled_from(list(Lot)))
    referral_date = draw(dates(date(2025, 6, 1), 500))
    refused = draw(subset(provider_ids, 2))
    preferred = draw(subset([p for p in provider_ids if p not in refused], 2))
    year = draw(st.integers(2006, 2024))
    month = draw(st.integers(1, 12))
    return {
        "id": f"R-{index:04d}",
        "service": service.value,
        "home_district": draw(st.sampled_from(PLACES)),
        "birth_month": f"{year:04d}-{month:02d}",
        "staff_ratio": draw(st.sampled_from(list(StaffRatio))).value,
        "hours": {}
        if service.is_overnight
        else draw(
            st.dictionaries(st.sampled_from(SLOTS), st.floats(0.5, 8), min_size=1, max_size=3)
        ),
        "nights_per_month": draw(st.integers(1, 10)) if service.is_overnight else 0,
        "needs": [x.value for x in draw(subset(list(Need), 3))],
        "priority": [x.value for x in draw(subset(list(PriorityFactor), 2))],
        "referral_date": referral_date.isoformat(),
        "planned_start_date": (
            referral_date + timedelta(days=draw(st.integers(0, 200)))
        ).isoformat(),
        "looked_after": draw(st.booleans()),
        "residential_school": draw(st.integers(0, 5)) == 0,
        "school_short_breaks": draw(st.integers(0, 5)) == 0,
        "existing_short_break_plan": draw(st.integers(0, 4)) == 0,
        "extension_agreed": draw(st.integers(0, 4)) == 0,
        "break_time_hours_used": draw(st.sampled_from([0.0, 0.0, 30.0, 66.0, 70.5])),
        "refused_provider_ids": refused,
        "preferred_provider_ids": preferred,
        "current_provider_id": draw(st.none() | st.sampled_from(provider_ids))
        if provider_ids
        else None,
    }


@st.composite
def instances(draw: st.DrawFn, max_providers: int = 8, max_referrals: int = 6) -> Instance:
    provider_docs = [draw(providers(i)) for i in range(draw(st.integers(1, max_providers)))]
    ids = [p["id"] for p in provider_docs]
    referral_docs = [draw(referrals(i, ids)) for i in range(draw(st.integers(1, max_referrals)))]
    return Instance.build(
        {
            "settings": SETTINGS.model_dump(),
            "providers": provider_docs,
            "referrals": referral_docs,
        }
    )
