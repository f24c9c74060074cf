"""The main job on the embedded default: load the county into the register, rank a few children.

It picks referrals that show the engine's range (a 2:1 child, personal care at home, an
overnight stay, a child no provider may take) and times ranking over the whole list.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console

from matcher.formats.files import load_instance
from matcher.model import Instance, Lot, Referral, StaffRatio
from matcher.ranking import rank
from matcher.register.store import Register
from matcher.render import print_ranking

Pick = Callable[[Referral], bool]

SHOWCASE: list[tuple[str, Pick]] = [
    (
        "a 2:1 child",
        lambda r: r.staff_ratio is StaffRatio.TWO_TO_ONE and not r.service.is_overnight,
    ),
    ("personal care at home", lambda r: r.service is Lot.PERSONAL_CARE),
    ("an overnight stay", lambda r: r.service.is_overnight),
    ("a Break Time group", lambda r: r.service is Lot.BREAK_TIME),
    ("intensive behaviour support", lambda r: r.service is Lot.INTENSIVE_PBS),
]


def pick_examples(instance: Instance, count: int) -> list[tuple[str, Referral]]:
    """The first referral of each showcase kind that has candidates, then one that has none."""
    chosen: list[tuple[str, Referral]] = []
    for label, wanted in SHOWCASE:
        for referral in instance.referrals:
            if wanted(referral) and rank(instance, referral, top=1).candidates:
                chosen.append((label, referral))
                break
    for referral in instance.referrals:
        if not rank(instance, referral, top=1).candidates:
            chosen.insert(
                min(len(chosen), count - 1), ("a child no provider may take now", referral)
            )
            break
    return chosen[:count]


#: The committed county scenario, and how it was made (tests/counties/test_generate.py holds
#: them equal).
COUNTY_FILE = Path("scenarios/lancashire-county.json")
COUNTY_REFERRALS, COUNTY_PROVIDERS, COUNTY_SEED = 700, 70, 2021
#: The demo's own register: it is replaced on every run, so it is never $DATABASE_URL.
DEMO_DATABASE = "sqlite:///.matcher/demo.sqlite"


def run_demo(console: Console, scenario: Path | None, database: str | None, examples: int) -> None:
    if scenario is not None:
        instance, source = load_instance(scenario), str(scenario)
    elif COUNTY_FILE.exists():
        instance, source = load_instance(COUNTY_FILE), str(COUNTY_FILE)
    else:
        from matcher.counties.generate import generate

        instance = generate(COUNTY_REFERRALS, COUNTY_PROVIDERS, seed=COUNTY_SEED)
        source = "the generated Lancashire-shaped county (seed 2021)"
    register = Register(database or DEMO_DATABASE)
    register.replace(instance)
    instance = register.load()
    console.print(
        f"Loaded {source} into the register at {register.url}: "
        f"{len(instance.providers)} providers, {len(instance.referrals)} referrals."
    )
    for label, referral in pick_examples(instance, examples):
        console.rule(f"Ranked matches for {label}")
        print_ranking(console, instance, rank(instance, referral, top=5), examples=3)

    timings = []
    for referral in instance.referrals:
        start = time.perf_counter()
        rank(instance, referral)
        timings.append(time.perf_counter() - start)
    ms = np.array(timings) * 1000
    console.print(
        f"Ranked all {len(ms)} referrals against {len(instance.providers)} providers: "
        f"median {np.median(ms):.2f} ms, 95th percentile {np.percentile(ms, 95):.2f} ms each."
    )
