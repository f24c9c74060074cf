"""Generated generalized-assignment instances of Yagiura's types D and E, larger than the
public ones, for measuring how the engine holds up as instances grow.

The published generators (Chu and Beasley 1997 for type D, Laguna et al. 1995 for type E,
as used by Yagiura, Ibaraki and Glover for their larger sets), with a fixed seed per
instance so that every run measures the same instances:

- type D: resource r_ij uniform on 1..100, cost c_ij = 111 − r_ij + e with e uniform on
  −10..10 (costs fall as resources rise, so cheap assignments are the heavy ones);
- type E: r_ij = 1 − 10 ln u with u uniform on (0, 1], c_ij = 1000 / r_ij − 10 v with v
  uniform on [0, 1] (resources rounded down to whole units, costs rounded down and at
  least 0);
- both: capacity b_i = ⌊0.8 Σ_j r_ij / m⌋.

They have no published optimum; the benchmark compares the engine with plain CP-SAT and
HiGHS on them, in the same run, and reports each one's bound.
"""

from __future__ import annotations

import numpy as np

from matcher.bench.gapfiles import GapInstance

#: The generated sets: jobs, and the agents of each instance.
SIZES = {1600: (20, 40, 80), 3200: (20, 40, 80)}


def name(kind: str, agents: int, jobs: int) -> str:
    """``generated/d20-1600``: the kind, agents and jobs."""
    return f"generated/{kind}{agents}-{jobs}"


def parse(instance: str) -> tuple[str, int, int] | None:
    """(kind, agents, jobs) of a generated instance's name, or None if it is not one."""
    if not instance.startswith("generated/"):
        return None
    body = instance.removeprefix("generated/")
    kind, size = body[:1], body[1:]
    agents, _, jobs = size.partition("-")
    if kind not in ("d", "e") or not agents.isdigit() or not jobs.isdigit():
        return None
    return kind, int(agents), int(jobs)


def generate(kind: str, agents: int, jobs: int) -> GapInstance:
    """The instance of this kind and size (the seed is made from them)."""
    rng = np.random.default_rng([ord(kind), agents, jobs])
    shape = (agents, jobs)
    if kind == "d":
        weight = rng.integers(1, 101, size=shape)
        cost = 111 - weight + rng.integers(-10, 11, size=shape)
    elif kind == "e":
        raw = 1.0 - 10.0 * np.log(1.0 - rng.random(size=shape))
        weight = np.floor(raw)
        cost = np.maximum(0.0, np.floor(1000.0 / raw - 10.0 * rng.random(size=shape)))
    else:
        raise ValueError(f"generated GAP instances are of type d or e, not {kind!r}")
    capacity = np.floor(0.8 * weight.sum(axis=1) / agents)
    return GapInstance(
        name=name(kind, agents, jobs),
        cost=cost.astype(np.int64),
        weight=weight.astype(np.int64),
        capacity=capacity.astype(np.int64),
    )


def names() -> list[str]:
    """Every generated instance, types D and E, smallest first."""
    return [
        name(kind, agents, jobs)
        for jobs, agent_counts in sorted(SIZES.items())
        for kind in ("d", "e")
        for agents in agent_counts
    ]
