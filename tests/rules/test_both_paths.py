"""The plain and the vectorised rules, written independently, agree on random pairs."""

from __future__ import annotations

import random
from typing import Any

import pytest

from matcher.model import (
    Capability,
    Instance,
    Lot,
    Need,
    RegisteredActivity,
    StaffRatio,
)
from tests import factories
from tests.rules.pairs import EXCLUSION_FLAGS, codes, short_of_room

# --------------------------------------------------------------------------------------
# Both implementations over many random pairs
# --------------------------------------------------------------------------------------


def _random_instance(rng: random.Random) -> Instance:
    council = [d.id for d in factories.settings().districts]
    places = [*council, "blackpool", "blackburn_with_darwen"]
    slots = ["sat_morning", "sat_afternoon", "mon_afternoon"]

    def some(values: list[str]) -> list[str]:
        return [v for v in values if rng.random() < 0.6]

    providers = []
    for i in range(6):
        changes: dict[str, Any] = {
            "id": f"P-{i}",
            "base_district": rng.choice(places),
            "districts": some(council) or ["preston"],
            "services": some([lot.value for lot in Lot]),
            "ratios": some([r.value for r in StaffRatio]),
            "capabilities": some([c.value for c in Capability]),
            "registrations": some([r.value for r in RegisteredActivity]),
            "ratings": [
                {
                    "regulator": "ofsted",
                    "overall": rng.choice(["good", "requires_improvement", "inadequate"]),
                    "safeguarding": rng.choice([None, "good", "inadequate"]),
                    "date": "2026-01-01",
                }
            ],
            "min_age": rng.choice([0, 5, 11]),
            "max_age": rng.choice([12, 17, 25]),
            "staff_hours": {s: rng.choice([0, 2, 8]) for s in slots},
        }
        if rng.random() < 0.4:
            changes["units"] = [
                {"id": f"U-{i}", "name": "Unit", "district": rng.choice(council), "beds": 2}
            ]
        providers.append(factories.provider(**changes))
    referrals = []
    for j in range(6):
        lot = rng.choice(list(Lot))
        changes = {
            "id": f"R-{j}",
            "service": lot.value,
            "home_district": rng.choice(places),
            "birth_month": f"{rng.randint(2006, 2023)}-{rng.randint(1, 12):02d}",
            "staff_ratio": rng.choice(list(StaffRatio)).value,
            "needs": some([n.value for n in Need])[:3],
            "planned_start_date": rng.choice(["2026-07-01", "2026-11-09", "2027-09-01"]),
            "refused_provider_ids": [p.id for p in providers if rng.random() < 0.15],
            "current_provider_id": rng.choice([None, *[p.id for p in providers]]),
            "extension_agreed": rng.random() < 0.3,
        }
        for flag in EXCLUSION_FLAGS:
            changes[flag] = rng.random() < 0.15
        if lot.is_overnight:
            changes |= {"hours": {}, "nights_per_month": 4}
        else:
            changes["hours"] = {rng.choice(slots): 3}
        referrals.append(factories.referral(**changes))
    return factories.instance(providers, referrals)


@pytest.mark.parametrize("seed", range(20))
def test_plain_and_vectorised_rules_agree_on_random_pairs(seed: int) -> None:
    # The two implementations are written independently; on 36 random pairs per seed they
    # must give the same codes in the same order (codes() asserts it), and the same room.
    instance = _random_instance(random.Random(seed))
    for referral in instance.referrals:
        for provider in instance.providers:
            codes(instance, referral.id, provider.id)
            short_of_room(instance, referral.id, provider.id)
