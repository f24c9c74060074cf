"""A Northamptonshire-shaped instance of residential short breaks (DOMAIN.md).

Two council units: one for autism / learning disability with 8 beds, one for complex
health with 6; 76 children; 11 young people turning 18 within the year. The units are
contracted at 85 % occupancy and run at 60–70 %. The scrutiny report's question: open both
units 6 days a week instead of 7, and is the same need still met at 85 % occupancy?

The children are generated, seeded and calibrated to those figures:
- about 4 nights a month each: 76 × 4 = 304 of the 425 bed-nights a month of a 7-day week,
  72 %;
- weekends preferred by most families;
- some 2:1 children;
- a few who must sleep alone in the unit, or in a solo room;
- a few pairs who must not share a night;
- nights already used this year.

Geography: the old districts of North and West Northamptonshire, with travel estimated as
for Lancashire (:func:`matcher.counties.lancashire.travel_minutes`).
"""

from __future__ import annotations

import random
from datetime import date

from matcher.counties.lancashire import Place, time_slots, travel_minutes
from matcher.model import District, Instance, Settings, Weekday

PLACES: list[Place] = [
    ("corby", "Corby", "North Northamptonshire", 52.488, -0.701, False),
    ("kettering", "Kettering", "North Northamptonshire", 52.398, -0.728, False),
    ("wellingborough", "Wellingborough", "North Northamptonshire", 52.302, -0.694, False),
    (
        "east_northamptonshire",
        "East Northamptonshire",
        "North Northamptonshire",
        52.38,
        -0.52,
        True,
    ),
    ("northampton", "Northampton", "West Northamptonshire", 52.237, -0.894, False),
    ("daventry", "Daventry", "West Northamptonshire", 52.257, -1.163, True),
    (
        "south_northamptonshire",
        "South Northamptonshire",
        "West Northamptonshire",
        52.13,
        -1.0,
        True,
    ),
]
PLANNING_DATE = date(2026, 11, 2)
CHILDREN = 76
TURNING_18 = 11


def settings(planning_date: date = PLANNING_DATE, horizon_weeks: int = 13) -> Settings:
    return Settings(
        council="Northamptonshire (North and West Northamptonshire Councils)",
        planning_date=planning_date,
        horizon_weeks=horizon_weeks,
        fixed_hourly_rate=24.50,
        rate_effective_from=date(2026, 4, 1),
        annual_uplift=0.03,
        night_rate=455.0,
        districts=[District(id=i, name=n, area=a) for i, n, a, *_ in PLACES],
        travel_minutes=travel_minutes(PLACES),
        time_slots=time_slots(),
    )


def residential_units(seed: int = 2021, closed: Weekday | None = None) -> Instance:
    """The two units and their 76 children; ``closed``: a night both units close."""
    rng = random.Random(seed)
    open_days = [d.value for d in Weekday if d is not closed]
    districts = [p[0] for p in PLACES]
    provider = {
        "id": "NCC-RES",
        "name": "Council residential short breaks",
        "contract": "framework",
        "base_district": "northampton",
        "districts": districts,
        "services": ["3"],
        "ratios": ["1:1", "2:1"],
        "capabilities": [
            "personal_care",
            "complex_health",
            "autism_quiet_space",
            "positive_behaviour_support",
            "moving_and_handling",
            "wheelchair_access",
        ],
        "registrations": ["ofsted_childrens_home"],
        "ratings": [{"regulator": "ofsted", "overall": "good", "date": "2025-06-01"}],
        "units": [
            {
                "id": "U-AUTISM",
                "name": "Autism and learning disability unit",
                "district": "kettering",
                "beds": 8,
                "solo_rooms": 2,
                "specialisms": ["autism_learning_disability"],
                "open_days": open_days,
                "min_age": 8,
                "max_age": 18,
            },
            {
                "id": "U-HEALTH",
                "name": "Complex health unit",
                "district": "northampton",
                "beds": 6,
                "solo_rooms": 2,
                "specialisms": ["complex_health"],
                "open_days": open_days,
                "min_age": 8,
                "max_age": 18,
            },
        ],
    }
    referrals: list[dict[str, object]] = []
    turning = set(rng.sample(range(CHILDREN), TURNING_18))
    for k in range(CHILDREN):
        health = k % 5 in (1, 3)  # about 2 in 5 in the complex-health unit
        if k in turning:
            # Turns 18 within the coming year (the month after the planning date onwards).
            months_ahead = 1 + sorted(turning).index(k)
            year, month = 2026 - 18 + (10 + months_ahead) // 12, (10 + months_ahead) % 12 + 1
        else:
            year, month = rng.randint(2010, 2017), rng.randint(1, 12)
        preferred = rng.choice(
            [["fri", "sat"], ["fri", "sat"], ["sat", "sun"], ["fri"], ["sat"], [], ["wed"]]
        )
        referral: dict[str, object] = {
            "id": f"N-{k + 1:03d}",
            "service": "3",
            "home_district": rng.choice(districts),
            "birth_month": f"{year}-{month:02d}",
            "staff_ratio": "2:1" if rng.random() < 0.12 else "1:1",
            "hours": {},
            "nights_per_month": rng.choice([2, 3, 4, 4, 4, 5, 5, 6]),
            "preferred_nights": preferred,
            "needs": ["complex_health", "personal_care"] if health else ["autism"],
            "priority": rng.sample(
                [
                    "crisis",
                    "multiple_disabilities",
                    "carer_disabled_or_unwell",
                    "single_parent_no_support",
                ],
                rng.choice([0, 0, 1, 1, 2]),
            ),
            "referral_date": f"202{rng.randint(3, 6)}-0{rng.randint(1, 9)}-01",
            "planned_start_date": "2026-11-02",
            "solo": rng.choice(["none"] * 20 + ["solo_room"] * 2 + ["unit_alone"]),
            "nights_used": {("U-HEALTH" if health else "U-AUTISM"): rng.randint(0, 40)},
        }
        referrals.append(referral)
    # A few pairs of children who must not share a night (same unit).
    for a, b in ((0, 2), (5, 10), (6, 11)):
        referrals[a]["incompatible_with"] = [str(referrals[b]["id"])]
    return Instance.build(
        {"settings": settings().model_dump(), "providers": [provider], "referrals": referrals}
    )
