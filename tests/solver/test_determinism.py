"""The same instance and parameters give the identical result: twice in a row, with one
worker or two, and in another process with two busy processes beside it.

Every member of the staged core's portfolio is deterministic (CP-SAT with one worker and
a deterministic budget, the relaxation, the neighbourhood search, the MIP with a node
limit), so nothing in the answer may depend on the clock. The answer compared is the
whole result but its timings: placements, nights, every level's value and bound, status,
the budget used and what stopped the search.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

from matcher.allocate import allocate
from matcher.check import check
from matcher.counties.generate import generate
from matcher.formats.files import load_instance, save_instance
from matcher.problem.day import build_day, split
from matcher.result import Params, Result, StopReason
from matcher.solver import LOCAL_SEARCH_PAIRS

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def answer(result: Result) -> str:
    """The result without its timings, as text."""
    data = result.model_dump(mode="json", exclude={"timings"})
    if data["overnight"] is not None:
        data["overnight"].pop("solve_s")
    return json.dumps(data, sort_keys=True)


def county() -> object:
    # Big enough that the largest part gets the relaxation and the neighbourhood search
    # beside CP-SAT (asserted below), and is not proven within the budget.
    return generate(2000, 200, seed=5)


def test_a_day_solve_is_identical_twice_and_with_one_worker() -> None:
    instance = county()
    problem = build_day(instance)
    largest = max(
        int(problem.pair_start[ks + 1].sum() - problem.pair_start[ks].sum())
        for ks in split(problem)
    )
    assert largest >= LOCAL_SEARCH_PAIRS  # every member of the portfolio takes part
    params = Params(budget=2.0, workers=2)
    first = allocate(instance, params)
    assert check(instance, first) == []
    assert first.stopped_by is StopReason.BUDGET  # not proven: the budget decided the end
    assert answer(allocate(instance, params)) == answer(first)
    one = allocate(instance, params.model_copy(update={"workers": 1}))
    assert answer(one).replace('"workers": 1', '"workers": 2') == answer(first)


def test_a_night_solve_with_the_mip_is_identical_twice_and_with_one_worker() -> None:
    instance = load_instance(SCENARIOS / "northamptonshire-units-6-days.json")
    params = Params(budget=2.0, workers=2)
    first = allocate(instance, params)
    assert check(instance, first) == []
    assert first.overnight is not None
    # The MIP beside CP-SAT proves who gets nights (crisis, priority, fair shares,
    # preferred nights).
    levels = {lv.name: lv for lv in first.overnight.levels}
    who = ("crisis_nights", "priority_nights", "fair_shares", "preferred_nights")
    assert all(levels[name].optimal for name in who)
    # Routine is not proven: the neighbourhood search ran beside CP-SAT, to its budget.
    assert not levels["routine"].optimal
    assert answer(allocate(instance, params)) == answer(first)
    one = allocate(instance, params.model_copy(update={"workers": 1}))
    assert answer(one).replace('"workers": 1', '"workers": 2') == answer(first)


def _spin(seconds: float) -> None:  # pragma: no cover (a child process)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass


SOLVE = """
import sys
from matcher.allocate import allocate
from matcher.formats.files import load_instance
from matcher.result import Params
result = allocate(load_instance(sys.argv[1]), Params(budget=float(sys.argv[2]), workers=2))
print(result.model_dump_json())
"""


def _solve_in_a_process(path: Path, budget: float) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SOLVE, str(path), str(budget)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return answer(Result.model_validate_json(done.stdout))


def test_two_busy_processes_beside_it_change_nothing(tmp_path: Path) -> None:
    path = tmp_path / "county.json"
    save_instance(county(), path)
    quiet = _solve_in_a_process(path, 2.0)
    context = multiprocessing.get_context("spawn")
    busy = [context.Process(target=_spin, args=(300.0,), daemon=True) for _ in range(2)]
    for process in busy:
        process.start()
    try:
        loaded = _solve_in_a_process(path, 2.0)
    finally:
        for process in busy:
            process.kill()
            process.join()
    assert loaded == quiet
    assert json.loads(quiet)["stopped_by"] == "budget"
