"""Public GAP instances in the engine: reading them, the conversion, the checker, optima."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from matcher.bench.gapfiles import (
    GapInstance,
    agent_of_job,
    check_gap,
    gap_cost,
    gap_problem,
    read_best_known,
    read_gap,
    solve_gap,
)
from matcher.bench.suites import GAP_DIR
from matcher.errors import InputError
from matcher.greedy import greedy
from matcher.result import Params


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tiny"
    path.write_text(text)
    return path


#: 2 agents × 3 jobs. Costs: agent 1 is cheaper for every job; weights 5 each at agent 1
#: (capacity 10: two jobs fit) and 4 each at agent 2 (capacity 4: one job fits).
TINY = """2 3
1 1 9
5 5 2
5 5 5
4 4 4
10 4
"""


def tiny(tmp_path: Path) -> GapInstance:
    return read_gap(write(tmp_path, TINY))


def test_read_gap_takes_the_or_library_layout(tmp_path: Path) -> None:
    gap = tiny(tmp_path)
    assert (gap.agents, gap.jobs) == (2, 3)
    assert gap.cost.tolist() == [[1, 1, 9], [5, 5, 2]]
    assert gap.weight.tolist() == [[5, 5, 5], [4, 4, 4]]
    assert gap.capacity.tolist() == [10, 4]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2 3\n1 1 9\n5 5 2\n", "2 agents × 3 jobs need 16 numbers, found 8"),
        (TINY.replace("9", "nine"), "'nine' is not a whole number"),
        ("", "does not start with the agent and job counts"),
        (TINY.replace("10 4", "10 -4"), "must not be negative"),
    ],
)
def test_a_malformed_file_is_named_with_what_is_wrong(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(InputError) as caught:
        read_gap(write(tmp_path, text))
    assert str(tmp_path / "tiny") in str(caught.value)
    assert message in str(caught.value)


def test_the_problem_has_a_pair_wherever_the_job_fits_the_agent_at_all(tmp_path: Path) -> None:
    problem = gap_problem(tiny(tmp_path))
    assert problem.must_place
    assert np.diff(problem.pair_start).tolist() == [2, 2, 2]
    assert problem.pair_cost.tolist() == [1, 5, 1, 5, 9, 2]
    assert problem.capacity_units.tolist() == [[10], [4]]


def test_the_engine_finds_and_proves_the_tiny_optimum(tmp_path: Path) -> None:
    # Every job must be placed; agent 2 holds one job, agent 1 two. Whichever job goes to
    # agent 2 costs 5, 5 or 2 there, and the other two cost 1 + 9, 1 + 9 or 1 + 1 at
    # agent 1: totals 15, 15 and 4. The optimum is 4: job 3 at agent 2, jobs 1 and 2 at 1.
    run = solve_gap(tiny(tmp_path), Params(budget=5))
    assert run.feasible and run.violations == []
    assert run.cost == 4
    assert run.proven and run.bound == 4


def test_the_engine_places_every_job_where_greedy_cannot(tmp_path: Path) -> None:
    # Agent 1 (capacity 6) is cheapest for both jobs; job 1 weighs 5 there and job 2 weighs
    # 3. Agent 2 (capacity 5) takes job 1 only (weight 5; job 2 weighs 6 there). Greedy
    # gives job 1 its cheapest agent, agent 1, and job 2 then fits nowhere. The only
    # feasible allocation is job 1 at agent 2 and job 2 at agent 1: 7 + 1 = 8.
    gap = read_gap(write(tmp_path, "2 2\n1 1\n7 7\n5 3\n5 6\n6 5\n"))
    assert len(greedy(gap_problem(gap))) == 1  # greedy places job 1 only
    run = solve_gap(gap, Params(budget=5))
    assert run.feasible
    assert run.cost == 8
    assert run.proven


def test_check_gap_catches_an_unplaced_job_and_an_overloaded_agent(tmp_path: Path) -> None:
    gap = tiny(tmp_path)
    assert check_gap(gap, np.array([0, 0, 1])) == []
    assert check_gap(gap, np.array([0, -1, 1])) == ["job 2 is not placed"]
    assert check_gap(gap, np.array([0, 0, 0])) == ["agent 1 uses 15 of 10"]
    assert gap_cost(gap, np.array([0, 0, 1])) == 4


def test_agent_of_job_reads_a_solution_over_the_pairs(tmp_path: Path) -> None:
    problem = gap_problem(tiny(tmp_path))
    solution = np.array([1, 0, 0, 1, 0, 1], dtype=np.int64)  # job 1→1, job 2→2, job 3→2
    assert agent_of_job(problem, solution).tolist() == [0, 1, 1]


def test_best_known_values_are_read_with_blank_optima_as_none() -> None:
    best = read_best_known(GAP_DIR / "best_known.csv")
    assert best["cattrysse1994/gap1-0"].optimum == best["cattrysse1994/gap1-0"].best == 261
    unproven = [name for name, b in best.items() if b.optimum is None]
    assert unproven, "the Yagiura sets have instances without a proven optimum"
    assert all(best[name].best > 0 for name in unproven)


def test_a_best_known_file_with_a_bad_row_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "best.csv"
    path.write_text(
        "Path,Format,Dataset,Item number,Agent number,Best known bound,Optimum,"
        "Best known solution value\na/b,orlibrary,a,15,5,261,261,x\n"
    )
    with pytest.raises(InputError, match="row 2"):
        read_best_known(path)


def test_gap1_0_reaches_its_published_optimum() -> None:
    gap = read_gap(GAP_DIR / "cattrysse1994" / "gap1-0", "cattrysse1994/gap1-0")
    run = solve_gap(gap, Params(budget=10))
    assert run.feasible and run.proven
    assert run.cost == 261  # the published optimum (best_known.csv)


def test_generated_instances_follow_the_published_formulas_and_repeat() -> None:
    from matcher.bench.generated import generate, names, parse

    d = generate("d", 20, 1600)
    assert (d.agents, d.jobs) == (20, 1600)
    assert d.weight.min() >= 1 and d.weight.max() <= 100
    spread = d.cost - (111 - d.weight)  # e, uniform on -10..10
    assert spread.min() >= -10 and spread.max() <= 10
    assert np.array_equal(d.capacity, np.floor(0.8 * d.weight.sum(axis=1) / 20).astype(int))
    e = generate("e", 40, 1600)
    assert e.weight.min() >= 1 and e.cost.min() >= 0 and e.cost.max() <= 1000
    # The same name, the same instance; another size, another one.
    assert np.array_equal(generate("d", 20, 1600).cost, d.cost)
    assert not np.array_equal(generate("d", 20, 3200).cost[:, :1600], d.cost)
    assert parse("generated/e40-1600") == ("e", 40, 1600) and parse("yagiura2004/e10100") is None
    assert len(names()) == 12


def test_bench_gap_solves_a_file_from_the_command_line(tmp_path: Path) -> None:
    from tests.test_cli import run as run_matcher

    done = run_matcher("bench", "gap", str(write(tmp_path, TINY)), "--effort", "quick", "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert (record["jobs"], record["agents"]) == (3, 2)
    assert record["feasible"] and record["proven"] and record["stopped_by"] == "proof"
    assert record["cost"] == record["bound"]
    bad = run_matcher("bench", "gap", str(tmp_path / "missing"))
    assert bad.returncode == 2 and "cannot read" in bad.stderr
