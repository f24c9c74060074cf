"""Batch allocation of a waiting list to day-service capacity.

- :mod:`~matcher.allocation.problem`: eligible pairs, consumption, costs (arrays, no OR-Tools);
- :mod:`~matcher.allocation.objective`: the lexicographic levels;
- :mod:`~matcher.allocation.greedy`: the greedy floor and warm start;
- :mod:`~matcher.allocation.result`: the Result, never None;
- :mod:`matcher.solver`: the CP-SAT model and its sequential solve.
"""
