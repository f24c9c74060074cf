"""Constraint families of the day-allocation model, one module each.

Each family has ``add(proto, problem)``: it writes its constraints straight into the
CP-SAT model proto (at region size this is several times faster than building Python
expressions) and returns nothing. The solver calls them from an explicit, ordered list.

Assignment variable ``j`` (proto variable ``j``) is true when pair ``j`` of the
:class:`~matcher.allocation.problem.Problem` is chosen. Two rules need no family, because
the problem creates no variable that could break them: eligibility (including family
refusals: pairs exist only for eligible providers) and not moving existing placements when
moves are not allowed (a placed child then has only its current pair).

Families, in order: ``assignment`` (each child at most once), ``capacity`` (staff-hours per
provider and slot), ``continuity`` (existing placements continue).
"""
