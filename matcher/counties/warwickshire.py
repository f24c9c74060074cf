"""A Warwickshire-shaped county for the cabinet report's questions (DOMAIN.md, seed 003).

What the report says, and how this instance follows it:
- about 400 children assessed as eligible for a short break [D]: 400 referrals, generated
  by :func:`matcher.counties.generate.generate` with Warwickshire's five districts (Coventry, a
  separate council, as the neighbouring area);
- a lead provider for Warwickshire North and Rugby and a framework for the South, with
  "high-cost spot purchased packages with agencies" [D]: the generator's mix of framework
  and off-list providers, 40 in all [A];
- one residential block contract of 4 overnight beds, £0.664m a year [D]: one unit of 4
  beds, no solo room, in Warwick, taking autism / learning disability and complex health;
  £0.664m / (4 × 365) = £455 a bed-night, the night rate here;
- "more solo and two-bed opportunities needed for older children and children with
  behaviours that challenge" [D]: overnight children of 13 and over with behaviours that
  challenge need a solo room (this instance's reading of it [A]);
- the fixed hourly rate is not in the report: £25.00 with a 3 % uplift [A].

The committed file ``scenarios/warwickshire-county.json`` is :func:`county` (a test says so).
"""

from __future__ import annotations

from datetime import date

from matcher.counties.generate import generate_document
from matcher.counties.lancashire import Place, time_slots, travel_minutes
from matcher.model import District, Instance, Need, Settings, SoloNeed

PLACES: list[Place] = [
    ("north_warwickshire", "North Warwickshire", "North", 52.578, -1.552, True),
    ("nuneaton_and_bedworth", "Nuneaton and Bedworth", "North", 52.52, -1.47, False),
    ("rugby", "Rugby", "Rugby", 52.37, -1.26, False),
    ("warwick", "Warwick", "South", 52.28, -1.58, False),
    ("stratford_on_avon", "Stratford-on-Avon", "South", 52.19, -1.71, True),
    ("coventry", "Coventry", "Coventry (separate council)", 52.41, -1.51, False),
]
PLANNING_DATE = date(2026, 11, 2)
CHILDREN = 400
PROVIDERS = 40
#: The block contract's beds [D].
BLOCK_BEDS = 4


def settings(planning_date: date = PLANNING_DATE) -> Settings:
    return Settings(
        council="Warwickshire County Council",
        planning_date=planning_date,
        horizon_weeks=13,
        fixed_hourly_rate=25.00,
        rate_effective_from=date(2026, 4, 1),
        annual_uplift=0.03,
        night_rate=455.0,
        districts=[District(id=i, name=n, area=a) for i, n, a, *_ in PLACES[:5]],
        neighbouring_areas=[District(id=i, name=n, area=a) for i, n, a, *_ in PLACES[5:]],
        travel_minutes=travel_minutes(PLACES),
        time_slots=time_slots(),
    )


def county(seed: int = 2024) -> Instance:
    """The county: 400 referrals, 40 providers, one 4-bed block unit."""
    doc = generate_document(CHILDREN, PROVIDERS, seed, settings())
    overnight = [p for p in doc["providers"] if p.get("units")]
    block, others = overnight[0], overnight[1:]
    # One block contract: every other generated unit goes (their providers keep their
    # day services, if any).
    for provider in others:
        provider["units"] = []
    block["units"] = [
        {
            "id": "WCC-BLOCK",
            "name": "Residential short breaks (block contract)",
            "district": "warwick",
            "beds": BLOCK_BEDS,
            "solo_rooms": 0,
            "specialisms": ["autism_learning_disability", "complex_health"],
            "min_age": 5,
            "max_age": 18,
        }
    ]
    block["districts"] = [p[0] for p in PLACES[:5]]
    # A children's home for disabled children meets the needs its unit's specialisms
    # name (the generator's overnight provider has a random few).
    block["capabilities"] = [
        "personal_care",
        "complex_health",
        "autism_quiet_space",
        "positive_behaviour_support",
        "moving_and_handling",
        "wheelchair_access",
        "hearing_impairment",
        "visual_impairment",
    ]
    for referral in doc["referrals"]:
        for unit in referral.get("nights_used", {}).copy():
            if unit != "WCC-BLOCK":
                referral["nights_used"].pop(unit)
        if str(referral["service"]) != "3":
            continue
        age = PLANNING_DATE.year - int(str(referral["birth_month"])[:4])
        if age >= 13 and Need.BEHAVIOURS_THAT_CHALLENGE in referral.get("needs", []):
            referral["solo"] = SoloNeed.SOLO_ROOM
    return Instance.build(doc)
