"""The portfolio's members (matcher.search): the MIP reads the same model as CP-SAT, the
relaxation's bound holds and its rounding fits, the neighbourhood search only improves
and keeps every row."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from matcher.bench.gapfiles import GapInstance, gap_problem
from matcher.constraints import day_model
from matcher.greedy import greedy
from matcher.problem.day import DayProblem
from matcher.search import lns, mip, relaxation


def solved_by_cpsat(model: cp_model.CpModel) -> float:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(model) == cp_model.OPTIMAL
    return float(solver.objective_value)


@st.composite
def small_models(draw: st.DrawFn) -> cp_model.CpModel:
    """A small 0/1 model with every kind of constraint the families write."""
    n = draw(st.integers(4, 9))
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(n)]
    pick = st.lists(st.integers(0, n - 1), min_size=2, max_size=4, unique=True)
    for _ in range(draw(st.integers(1, 3))):
        members = draw(pick)
        coefs = draw(st.lists(st.integers(1, 5), min_size=len(members), max_size=len(members)))
        model.add(
            sum(c * x[i] for c, i in zip(coefs, members, strict=True)) <= draw(st.integers(2, 8))
        )
    model.add_at_most_one(x[i] for i in draw(pick))
    a, b = draw(pick)[:2]
    model.add_bool_or([x[a].Not(), x[b].Not()])
    alone, *others = draw(pick)
    model.add(sum(x[i] for i in others) == 0).only_enforce_if(x[alone])
    flag = model.new_bool_var("flag")
    model.add_max_equality(flag, [x[i] for i in draw(pick)])
    weights = draw(st.lists(st.integers(-3, 9), min_size=n, max_size=n))
    model.maximize(sum(w * v for w, v in zip(weights, x, strict=True)) - 2 * flag)
    return model


@settings(max_examples=40)
@given(small_models())
def test_the_mip_of_a_model_has_the_same_optimum_as_cp_sat(model: cp_model.CpModel) -> None:
    # The objective reads the flag, so nothing is left out: the MIP is the same model.
    run = mip.run(model.Proto(), dtime=1.0, wall_s=30, seed=0)
    assert run.optimal
    assert run.objective is not None and run.solution is not None
    assert abs(run.objective - solved_by_cpsat(model)) < 1e-6
    assert mip.feasible(model.Proto(), run.solution)


def test_feasible_catches_every_kind_of_broken_row() -> None:
    model = cp_model.CpModel()
    x, y, z = (model.new_bool_var(name) for name in "xyz")
    model.add(x + y <= 1)
    model.add_bool_or([x, z])
    model.add(y + z == 0).only_enforce_if(x)
    proto = model.Proto()
    assert mip.feasible(proto, np.array([1, 0, 0]))
    assert not mip.feasible(proto, np.array([1, 1, 0]))  # x + y ≤ 1
    assert not mip.feasible(proto, np.array([0, 1, 0]))  # x or z
    assert not mip.feasible(proto, np.array([1, 0, 1]))  # x alone


def gap(cost: list[list[int]], weight: list[list[int]], capacity: list[int]) -> DayProblem:
    return gap_problem(GapInstance("tiny", np.array(cost), np.array(weight), np.array(capacity)))


def test_the_relaxation_bounds_the_optimum_and_its_rounding_fits() -> None:
    # Three jobs, two agents of capacity 5; every job weighs 3 at either agent, so one
    # agent takes two and the other one: the cheapest is 1 + 1 + 4 = 6 (jobs 0 and 1 at
    # agent 0), while the relaxation may split a job.
    problem = gap([[1, 1, 4], [3, 3, 2]], [[3, 3, 3], [3, 3, 3]], [6, 5])
    relaxed = relaxation.solve(problem, problem.pair_cost, False, [], dtime=1.0, wall_s=10)
    assert relaxed is not None
    assert relaxed.bound <= 6
    chosen = relaxation.rounded(problem, relaxed, problem.pair_cost)
    used = np.zeros(2, dtype=np.int64)
    np.add.at(used, problem.pair_provider[chosen], problem.use_units[chosen])
    assert np.all(used <= problem.capacity_units[:, 0])
    assert len(set(problem.pair_referral[chosen].tolist())) == len(chosen)


def test_the_neighbourhood_search_reaches_the_optimum_from_greedy_and_keeps_capacity() -> None:
    rng = np.random.default_rng(3)
    agents, jobs = 4, 24
    weight = rng.integers(1, 10, size=(agents, jobs))
    cost = 20 - weight + rng.integers(0, 5, size=(agents, jobs))
    # Room enough that greedy places every job, but not each at its cheapest agent.
    capacity = (weight.sum(axis=1) // 2).astype(np.int64)
    problem = gap(cost.tolist(), weight.tolist(), capacity.tolist())
    start = np.zeros(len(problem.pair_provider), dtype=np.int64)
    start[greedy(problem)] = 1
    assert np.count_nonzero(start) == jobs
    run = lns.improve(
        problem, start, problem.pair_cost, False, [], None, 5.0, seed=0, wall_left=lambda: 60.0
    )
    placed = run.solution == 1
    assert int(problem.pair_cost @ run.solution) <= int(problem.pair_cost @ start)
    used = np.zeros(agents, dtype=np.int64)
    np.add.at(used, problem.pair_provider[placed], problem.use_units[placed])
    assert np.all(used <= capacity)
    # Against the optimum of the whole model, from CP-SAT.
    model = day_model(problem)
    model.minimize(
        sum(
            int(c) * model.get_bool_var_from_proto_index(j)
            for j, c in enumerate(problem.pair_cost.tolist())
        )
    )
    assert int(problem.pair_cost @ run.solution) == round(solved_by_cpsat(model))


def test_the_neighbourhood_search_never_gives_up_a_held_row() -> None:
    # Held: at least two jobs at agent 1 (whatever else it improves).
    problem = gap([[1, 1, 1], [5, 5, 5]], [[1, 1, 1], [1, 1, 1]], [3, 3])
    start = np.zeros(len(problem.pair_provider), dtype=np.int64)
    at_one = problem.pair_provider == 1
    start[np.flatnonzero(at_one)] = 1  # every job at the dear agent
    held = [(at_one.astype(np.int64), 2, True)]
    run = lns.improve(
        problem, start, problem.pair_cost, False, held, None, 2.0, seed=0, wall_left=lambda: 60.0
    )
    assert int(at_one.astype(np.int64) @ run.solution) >= 2
    assert int(problem.pair_cost @ run.solution) == 5 + 5 + 1  # one job moved, two held


def test_the_night_search_improves_routine_and_keeps_every_rule_and_held_row() -> None:
    from pathlib import Path

    from matcher.formats.files import load_instance
    from matcher.greedy import greedy_nights
    from matcher.objective import NIGHT_LEVELS, ROUTINE
    from matcher.problem.nights import build_nights
    from matcher.search import night_lns
    from matcher.solver import NightStages, _hold

    scenarios = Path(__file__).resolve().parents[2] / "scenarios"
    problem = build_nights(load_instance(scenarios / "northamptonshire-units.json"))
    spec = NightStages(problem)
    decisions = np.zeros(len(problem.stay_child), dtype=np.int64)
    decisions[greedy_nights(problem)] = 1
    start = spec.full(decisions)
    # The start, every stay, flag and child total fixed, is a solution of the model: the
    # totals follow from the stays as the routine family defines them.
    assert mip.feasible(spec.model.Proto(), start)
    # Hold the greedy start's nights (every level before routine) and minimise routine.
    for level in NIGHT_LEVELS[:3]:
        _hold(
            spec.model, spec.coefficients(level), level.sense, int(spec.coefficients(level) @ start)
        )
    coef = spec.coefficients(ROUTINE)
    nonzero = np.flatnonzero(coef)
    objective = spec.model.Proto().objective
    objective.vars.extend(nonzero.tolist())
    objective.coeffs.extend(coef[nonzero].tolist())
    run = night_lns.improve(
        spec.model, spec.owned, spec.rivals, start, coef, False, None, 1.0, 0, lambda: 60.0
    )
    assert run.improvements > 0
    assert int(coef @ run.solution) < int(coef @ start)
    assert mip.feasible(spec.model.Proto(), run.solution)  # every rule and held row
    for level in NIGHT_LEVELS[:3]:
        assert int(spec.coefficients(level) @ run.solution) >= int(spec.coefficients(level) @ start)
