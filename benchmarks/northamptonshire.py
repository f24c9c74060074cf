"""The Northamptonshire question: open both residential units 6 days a week instead of 7:
is the same need met at 85 % occupancy, and which children lose nights?

Solves ``scenarios/northamptonshire-units.json`` (7 days) and
``scenarios/northamptonshire-units-6-days.json`` (closed on Sunday nights) with the same
settings and prints, for each, the nights given against those asked, each unit's occupancy
against its 85 % target, and the children given fewer nights with 6 days than with 7.

    python benchmarks/northamptonshire.py [--time-limit 10]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from matcher.io import load_instance
from matcher.overnight.check import check_nights
from matcher.overnight.solver import allocate_nights

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0)
    args = parser.parse_args()
    given = {}
    for label, name in (
        ("7 days", "northamptonshire-units.json"),
        ("6 days", "northamptonshire-units-6-days.json"),
    ):
        instance = load_instance(SCENARIOS / name)
        result = allocate_nights(instance, args.time_limit)
        violations = check_nights(instance, result)
        levels = {lv.name: lv for lv in result.levels}
        priority = levels["priority_nights"]
        asked = sum(c.requested for c in result.children)
        nights = sum(c.allocated for c in result.children)
        print(
            f"{label}: {nights} of {asked} nights asked given ({result.horizon_weeks} weeks), "
            f"{len(result.short)} children short; priority {priority.value} "
            f"(bound {priority.bound}, {'proven' if priority.optimal else 'not proven'}); "
            f"checker: {len(violations)} violations; {result.solve_s} s"
        )
        for unit in result.units:
            occupancy, target = 100 * unit.occupancy, 100 * unit.target_occupancy
            print(
                f"  {unit.unit_id}: {unit.allocated} of {unit.open_bed_nights} open bed-nights, "
                f"occupancy {occupancy:.1f} % (target {target:.0f} %)"
            )
        given[label] = {c.referral_id: c.allocated for c in result.children}
    losers = {
        child: (given["7 days"][child], n)
        for child, n in given["6 days"].items()
        if n < given["7 days"][child]
    }
    print(f"Children given fewer nights with 6 days: {len(losers)}")
    for child, (seven, six) in sorted(losers.items()):
        print(f"  {child}: {seven} -> {six}")


if __name__ == "__main__":
    main()
