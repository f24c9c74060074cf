"""The solver's input as arrays, built once from an instance; no OR-Tools here.

- :mod:`~matcher.problem.day`: day referrals, their eligible pairs and what each takes of
  a provider's staff-hours per slot;
- :mod:`~matcher.problem.nights`: overnight referrals, the stays (child, unit, night) the
  rules allow, and the units' beds, solo rooms and night staff.
"""
