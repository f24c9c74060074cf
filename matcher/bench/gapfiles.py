"""Public generalized-assignment (GAP) instances, solved by the engine's own allocation core.

The OR-Library format: ``m n``, the m×n cost matrix (a row per agent), the m×n resource
matrix, then the m capacities, whitespace-separated. Every job goes to exactly one agent,
each agent's jobs use at most its capacity, and the total cost is minimised.

In the engine's terms a job is a referral that must be placed, an agent a provider with
one slot of capacity, a job's resource at an agent the staff-hours that pair takes (care
plus travel: it depends on the pair), and the cost the pair's cost. :func:`gap_problem`
builds exactly the :class:`~matcher.problem.day.DayProblem` the solver works on; with
every child placed, the levels before cost are fixed, and cost is the GAP objective.
:func:`check_gap` verifies a solution from the GAP's definition alone.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from matcher.errors import InputError
from matcher.errors import Problem as Issue
from matcher.problem.day import DayProblem, IntArray
from matcher.result import Params


@dataclass(frozen=True, eq=False)
class GapInstance:
    name: str
    cost: IntArray  # agents × jobs
    weight: IntArray  # agents × jobs
    capacity: IntArray  # agents

    @property
    def agents(self) -> int:
        return int(self.cost.shape[0])

    @property
    def jobs(self) -> int:
        return int(self.cost.shape[1])


@dataclass(frozen=True)
class BestKnown:
    bound: int | None
    optimum: int | None
    best: int


def read_gap(path: Path, name: str | None = None) -> GapInstance:
    """One OR-Library GAP file; a malformed file is an :class:`InputError` naming it."""
    try:
        tokens = path.read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Issue(str(path), f"cannot read: {exc}")) from None
    try:
        numbers = np.array([int(t) for t in tokens], dtype=np.int64)
    except ValueError:
        bad = next(t for t in tokens if not t.lstrip("-").isdigit())
        raise InputError(Issue(str(path), f"{bad!r} is not a whole number")) from None
    if len(numbers) < 2 or numbers[0] <= 0 or numbers[1] <= 0:
        raise InputError(Issue(str(path), "does not start with the agent and job counts"))
    m, n = int(numbers[0]), int(numbers[1])
    expected = 2 + 2 * m * n + m
    if len(numbers) != expected:
        raise InputError(
            Issue(str(path), f"{m} agents × {n} jobs need {expected} numbers, found {len(numbers)}")
        )
    body = numbers[2:]
    capacity = body[2 * m * n :]
    if np.any(capacity < 0) or np.any(body[: 2 * m * n] < 0):
        raise InputError(Issue(str(path), "costs, resources and capacities must not be negative"))
    return GapInstance(
        name=name or path.name,
        cost=body[: m * n].reshape(m, n),
        weight=body[m * n : 2 * m * n].reshape(m, n),
        capacity=capacity,
    )


def read_best_known(path: Path) -> dict[str, BestKnown]:
    """``best_known.csv``: instance path → bound, optimum (None where not proven), best."""

    def number(text: str) -> int | None:
        return int(text) if text.strip() else None

    out = {}
    try:
        with path.open(newline="", encoding="utf-8") as rows:
            for line, row in enumerate(csv.DictReader(rows), start=2):
                try:
                    best = number(row["Best known solution value"])
                    if best is None:
                        raise ValueError("no best known value")
                    out[row["Path"]] = BestKnown(
                        number(row["Best known bound"]), number(row["Optimum"]), best
                    )
                except (KeyError, ValueError, TypeError) as exc:
                    raise InputError(Issue(f"{path}, row {line}", str(exc))) from None
    except OSError as exc:
        raise InputError(Issue(str(path), f"cannot read: {exc}")) from None
    return out


def gap_problem(gap: GapInstance) -> DayProblem:
    """The engine's problem: a pair for every (job, agent) whose resource fits at all."""
    fits = gap.capacity >= gap.weight.T  # jobs × agents
    jobs, agents = np.nonzero(fits)  # row-major: grouped by job, as the DayProblem wants
    counts = np.bincount(jobs, minlength=gap.jobs)
    weights = gap.weight[agents, jobs]
    n_pairs = len(jobs)
    zeros = np.zeros(gap.jobs, dtype=np.int64)
    return DayProblem(
        instance=None,
        referral_idx=np.arange(gap.jobs, dtype=np.int64),
        pair_referral=jobs.astype(np.int64),
        pair_provider=agents.astype(np.int64),
        pair_start=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        use_start=np.arange(n_pairs + 1, dtype=np.int64),
        use_slot=np.zeros(n_pairs, dtype=np.int64),
        use_hours=weights.astype(np.float64),
        use_units=weights.astype(np.int64),
        pair_cost=gap.cost[agents, jobs].astype(np.int64),
        pair_travel=np.zeros(n_pairs, dtype=np.int64),
        capacity_hours=gap.capacity.astype(np.float64).reshape(-1, 1),
        capacity_units=gap.capacity.astype(np.int64).reshape(-1, 1),
        allow_moves=False,
        current_pair=np.full(gap.jobs, -1, dtype=np.int64),
        crisis=zeros,
        factors=zeros,
        waiting_days=zeros,
        waiting_weight=zeros,
        tiebreak=np.arange(gap.jobs, dtype=np.int64),
        must_place=True,
    )


def agent_of_job(problem: DayProblem, solution: IntArray) -> IntArray:
    """Each job's agent (-1 if unplaced) from a 0/1 vector over the pairs."""
    out = np.full(len(problem.referral_idx), -1, dtype=np.int64)
    chosen = np.flatnonzero(solution)
    out[problem.pair_referral[chosen]] = problem.pair_provider[chosen]
    return out


def check_gap(gap: GapInstance, agents: IntArray) -> list[str]:
    """Violations of the GAP's own definition, in plain Python: each job at one agent, each
    agent within its capacity."""
    problems = []
    used = [0] * gap.agents
    for job, agent in enumerate(agents.tolist()):
        if not 0 <= agent < gap.agents:
            problems.append(f"job {job + 1} is not placed")
            continue
        used[agent] += int(gap.weight[agent, job])
    for agent, total in enumerate(used):
        if total > int(gap.capacity[agent]):
            problems.append(f"agent {agent + 1} uses {total} of {int(gap.capacity[agent])}")
    return problems


def gap_cost(gap: GapInstance, agents: IntArray) -> int:
    return sum(int(gap.cost[a, j]) for j, a in enumerate(agents.tolist()) if a >= 0)


def gap_percent(cost: int, best: int) -> float:
    return 100 * (cost - best) / best


@dataclass(frozen=True)
class GapRun:
    name: str
    feasible: bool
    cost: int | None  # from the cost matrix, only when feasible
    bound: int  # a lower bound on the cost
    proven: bool
    build_s: float
    solve_s: float
    violations: list[str]
    budget_used: float = 0.0  # deterministic seconds
    stopped_by: str = "proof"
    assignment: list[int] = field(default_factory=list)  # each job's agent (-1: none)


def solve_gap(gap: GapInstance, params: Params) -> GapRun:
    """Build the engine's problem, start from greedy, and run the staged core within the
    parameters' deterministic budget."""
    from matcher.allocate import optimise_day
    from matcher.greedy import greedy
    from matcher.solver import Clock, stop_reason

    started = time.perf_counter()
    problem = gap_problem(gap)
    built = time.perf_counter()
    clock = Clock(params.wall_cap)
    outcome, _ = optimise_day(problem, greedy(problem), params.deterministic_budget, clock, params)
    solved = time.perf_counter()
    if outcome.infeasible:  # proven infeasible: no allocation places every job
        return GapRun(gap.name, False, None, 0, True, built - started, solved - built, [])
    agents = agent_of_job(problem, outcome.solution)
    violations = check_gap(gap, agents)
    # Greedy may not place every job; the result is feasible only if the search did.
    feasible = not violations
    bound, proven = outcome.proofs["cost"]
    placed_all = outcome.proofs["priority_placed"]
    proven = proven and feasible and placed_all[1]
    return GapRun(
        name=gap.name,
        feasible=feasible,
        cost=gap_cost(gap, agents) if feasible else None,
        bound=bound,
        proven=proven,
        build_s=built - started,
        solve_s=solved - built,
        violations=violations,
        budget_used=round(outcome.used, 4),
        stopped_by=stop_reason(outcome.proofs, clock).value,
        assignment=agents.tolist(),
    )
