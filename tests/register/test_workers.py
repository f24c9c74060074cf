"""2:1 means two workers at once (issue 13.3): where a provider states its workers on shift
in a slot, the children booked in that slot take their workers for it (a 1:1 child one,
a 2:1 child two, a 1:3 group child a third), beside the staff-hours they take.

Each case is small enough to check by hand; every allocation is read by the checker.
"""

from __future__ import annotations

from typing import Any

import pytest

from matcher import ranking
from matcher.allocate import allocate
from matcher.check import check
from matcher.errors import InputError
from matcher.formats.csv import import_csv, write_templates
from matcher.model import Instance, Provider
from matcher.result import Params, Placement, Result
from matcher.rules.catalogue import ReasonCode
from matcher.rules.checks import lacks_capacity
from matcher.scenario.gap import analyse
from matcher.scenario.gapcheck import check_gap
from tests import factories as f

QUICK = Params(budget=2.0, workers=1)


def saturday(workers: int | None, hours: float = 6.0, **changes: Any) -> Provider:
    """A provider with ``hours`` staff-hours on Saturday morning and, if given, workers."""
    stated = {} if workers is None else {"sat_morning": workers}
    return f.provider(staff_hours={"sat_morning": hours}, workers=stated, **changes)


def two_to_one(ident: str = "R-0001", hours: float = 2.0) -> Any:
    return f.referral(id=ident, staff_ratio="2:1", hours={"sat_morning": hours})


def solved(instance: Instance) -> Result:
    result = allocate(instance, QUICK)
    assert check(instance, result) == []
    return result


# ----- the rule, as a navigator meets it ---------------------------------------------------


@pytest.mark.parametrize(("workers", "short"), [(1, True), (2, False), (None, False)])
def test_a_two_to_one_child_needs_two_workers_at_once(workers: int | None, short: bool) -> None:
    # One worker's six hours on a Saturday morning cover the 4 staff-hours of a 2-hour 2:1
    # visit (plus travel), but not the two people it needs at once. Not stated: hours alone.
    instance = f.instance([saturday(workers, base_district="preston")], [two_to_one()])
    referral, provider = instance.referrals[0], instance.providers[0]
    assert lacks_capacity(instance, referral, provider) is short
    ranked = ranking.rank(instance, "R-0001")
    assert (len(ranked.candidates) == 0) is short
    if short:
        [excluded] = ranked.excluded
        [reason] = [r for r in excluded.reasons if r.code is ReasonCode.INSUFFICIENT_CAPACITY]
        assert "Saturday morning needs 2 workers at once, 1 worker free" in reason.message
        assert reason.facts["short_of_workers"] == ["sat_morning"]


def test_one_to_one_children_take_a_worker_each_for_the_slot() -> None:
    # Twelve staff-hours would cover four 1:1 children of two hours (travel aside), but
    # two workers on shift take two children at once.
    children = [f.referral(id=f"R-{i:04d}", hours={"sat_morning": 2}) for i in range(1, 5)]
    instance = f.instance([saturday(2, hours=12.0, base_district="preston")], children)
    result = solved(instance)
    assert len(result.placements) == 2
    assert {u.reasons[0].code for u in result.unplaced} == {"eligible_providers_full"}
    assert all("workers at once" in u.reasons[0].message for u in result.unplaced)


def test_a_group_child_takes_a_third_of_a_worker() -> None:
    # 1:3 Break Time Plus: one worker on shift takes three children, not a fourth.
    children = [
        f.break_time_referral(id=f"R-{i:04d}", service="1b", hours={"sat_morning": 2})
        for i in range(1, 5)
    ]
    instance = f.instance([saturday(1, hours=12.0)], children)
    result = solved(instance)
    assert len(result.placements) == 3


def test_the_solver_places_the_two_to_one_child_where_two_workers_are() -> None:
    # P-1 has the hours but one worker; P-2 is dearer (off-list) but has two workers.
    instance = f.instance(
        [
            saturday(1, hours=10.0, base_district="preston"),
            saturday(
                2,
                hours=10.0,
                id="P-2",
                name="Chorley Friends",
                contract="off_list",
                spot_hourly_rate=40,
                base_district="preston",
            ),
        ],
        [two_to_one()],
    )
    result = solved(instance)
    assert [p.provider_id for p in result.placements] == ["P-2"]


def test_existing_placements_take_their_workers() -> None:
    # A 1:1 child already placed on Saturday morning holds one of two workers: a 2:1 child
    # cannot join, though the hours would allow it.
    placed = f.referral(id="R-0002", hours={"sat_morning": 2}, current_provider_id="P-1")
    instance = f.instance([saturday(2, hours=20.0)], [two_to_one(), placed])
    assert lacks_capacity(instance, instance.referrals[0], instance.providers[0])
    result = solved(instance)
    assert [p.referral_id for p in result.placements] == ["R-0002"]


def test_the_checker_catches_too_few_workers() -> None:
    instance = f.instance([saturday(1, base_district="preston")], [two_to_one()])
    result = solved(instance)
    assert result.placements == []
    provider = instance.providers[0]
    # A hand-made result that places the child anyway.
    forced = result.model_copy(
        update={
            "placements": [
                Placement(
                    referral_id="R-0001",
                    provider_id=provider.id,
                    cost=98.0,
                    travel_minutes=0,
                    staff_hours={"sat_morning": 4.4},
                )
            ],
            "unplaced": [],
        }
    )
    assert "too_few_workers" in {v.code for v in check(instance, forced)}


def test_workers_without_hours_and_hours_without_workers() -> None:
    with pytest.raises(ValueError, match="has staff-hours but no worker on shift"):
        f.provider(staff_hours={"sat_morning": 6}, workers={"sat_morning": 0})
    with pytest.raises(InputError, match=r"providers\[0\] \(P-1\)\.workers: unknown time slot"):
        f.instance([f.provider(workers={"someday": 2})], [f.referral()])


# ----- spreadsheets and the capacity to buy --------------------------------------------------


def test_providers_csv_reads_workers_per_slot(tmp_path: Any) -> None:
    written = write_templates(tmp_path, f.settings())
    assert written
    instance = import_csv(
        tmp_path / "providers.csv", tmp_path / "referrals.csv", f.settings(), tmp_path / "units.csv"
    )
    first = instance.providers[0]
    assert first.workers["sat_morning"] == 6
    assert set(first.workers) <= set(first.staff_hours)


def test_the_gap_analysis_buys_a_worker_when_workers_run_short() -> None:
    # Plenty of hours, one worker: the cheapest way to place the 2:1 child is one more
    # worker on shift, priced as a two-hour session a week.
    instance = f.instance([saturday(1, hours=20.0, base_district="preston")], [two_to_one()])
    result = solved(instance)
    gap = analyse(instance, result, budget=5)
    assert check_gap(instance, result, gap) == []
    assert [(a.provider_id, a.slot_id, a.hours, a.workers) for a in gap.day] == [
        ("P-1", "sat_morning", 0, 1)
    ]
    assert gap.placed == ["R-0001"]
    assert "1 more worker on shift" in gap.lines[0]
