"""Tiny hand-made instances for rule tests.

``provider()`` and ``referral()`` return records that match each other on every rule (a
framework day-time provider in Preston, a 10-year-old in Preston asking for Saturday
morning 1:1); a test changes one field to make one rule bite.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from matcher.counties import lancashire
from matcher.model import Instance, Provider, Referral, Settings

PLANNING_DATE = date(2026, 11, 2)


def settings(**changes: Any) -> Settings:
    base = lancashire.settings(PLANNING_DATE)
    return base.model_copy(update=changes) if changes else base


def provider(**changes: Any) -> Provider:
    data: dict[str, Any] = {
        "id": "P-1",
        "name": "Ribble Sunrise Care",
        "contract": "framework",
        "base_district": "preston",
        "districts": ["preston", "south_ribble", "chorley"],
        "services": ["1a", "1b", "2a", "2b", "4"],
        "ratios": ["1:3", "1:2", "1:1", "2:1"],
        "capabilities": [
            "personal_care",
            "positive_behaviour_support",
            "autism_quiet_space",
            "wheelchair_access",
            "moving_and_handling",
            "complex_health",
            "hearing_impairment",
            "visual_impairment",
        ],
        "registrations": ["cqc_personal_care", "ofsted_early_years", "ofsted_childcare_compulsory"],
        "ratings": [{"regulator": "cqc", "overall": "good", "date": "2025-05-01"}],
        "staff_hours": {"sat_morning": 20, "sat_afternoon": 20, "mon_afternoon": 10},
    }
    data.update(changes)
    return Provider.model_validate(data)


def referral(**changes: Any) -> Referral:
    data: dict[str, Any] = {
        "id": "R-0001",
        "service": "2a",
        "home_district": "preston",
        "birth_month": "2016-03",  # 10 on the planning date
        "staff_ratio": "1:1",
        "hours": {"sat_morning": 3},
        "referral_date": "2026-06-01",
        "planned_start_date": "2026-11-09",
    }
    data.update(changes)
    return Referral.model_validate(data)


def instance(
    providers: list[Provider] | None = None,
    referrals: list[Referral] | None = None,
    settings_: Settings | None = None,
) -> Instance:
    return Instance.build(
        {
            "settings": (settings_ or settings()).model_dump(),
            "providers": [p.model_dump() for p in (providers or [provider()])],
            "referrals": [r.model_dump() for r in (referrals or [referral()])],
        }
    )


def overnight_provider(**changes: Any) -> Provider:
    data: dict[str, Any] = {
        "id": "P-9",
        "name": "Pendle House",
        "contract": "framework",
        "base_district": "burnley",
        "districts": ["burnley", "pendle", "preston"],
        "services": ["3"],
        "ratios": ["1:1", "2:1"],
        "capabilities": ["personal_care", "autism_quiet_space", "positive_behaviour_support"],
        "registrations": ["ofsted_childrens_home"],
        "ratings": [{"regulator": "ofsted", "overall": "good", "date": "2025-02-01"}],
        "units": [
            {
                "id": "U-1",
                "name": "Pendle House",
                "district": "pendle",
                "beds": 6,
                "solo_rooms": 1,
                "specialisms": ["autism_learning_disability"],
            }
        ],
    }
    data.update(changes)
    return Provider.model_validate(data)


def break_time_referral(**changes: Any) -> Referral:
    """A Break Time (lot 1a) group referral for the default 10-year-old: 1:3 on Saturday."""
    data: dict[str, Any] = {"service": "1a", "staff_ratio": "1:3", "hours": {"sat_morning": 3}}
    data.update(changes)
    return referral(**data)


def overnight_referral(**changes: Any) -> Referral:
    """A Night Time (lot 3) referral in Preston that ``overnight_provider()`` can take."""
    data: dict[str, Any] = {"service": "3", "hours": {}, "nights_per_month": 4}
    data.update(changes)
    return referral(**data)


DATA = Path(__file__).resolve().parent / "data"


def named(name: str) -> Instance:
    """A tiny named instance from ``tests/data/NAME.yaml``: its providers and referrals with
    Lancashire's settings at ``PLANNING_DATE`` (a ``settings:`` block replaces the fields it
    gives)."""
    data = yaml.safe_load((DATA / f"{name}.yaml").read_text(encoding="utf-8"))
    base = settings().model_dump(mode="json")
    return Instance.build(
        {
            "settings": base | data.get("settings", {}),
            "providers": data.get("providers", []),
            "referrals": data.get("referrals", []),
        }
    )
