"""``matcher allocate``: day and overnight referrals of one instance, as two models.

Day services consume providers' staff-hours per weekly slot; overnight stays consume
units' beds, solo rooms and night staff per night. No resource is shared between them
(a unit's night staff are not the day staff-hours a provider offers), and every objective
level is a sum over children, so solving them apart is exact: the pair of optima is the
optimum of the whole. Two models also keep each small and its explanation in its own
terms (slots and staff-hours; nights and beds).

The time limit is shared: overnight gets 30 % when there are both kinds of referral.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from matcher.allocation.result import Params, Result
from matcher.model import Instance
from matcher.overnight.solver import allocate_nights
from matcher.solver import solve

#: Overnight's share of the time limit when an instance has day referrals too.
OVERNIGHT_SHARE = 0.3


def allocate(
    instance: Instance,
    params: Params | None = None,
    progress: Callable[[float], None] | None = None,
) -> Result:
    """Day referrals to staff-hours (:func:`matcher.solver.solve`) and overnight referrals
    to bed-nights (:func:`matcher.overnight.solver.allocate_nights`), in one result.

    ``progress`` hears the share of the time limit used when the overnight part is done.
    """
    params = params or Params()
    overnight = [r for r in instance.referrals if r.service.is_overnight]
    if not overnight:
        return solve(instance, params)
    started = time.perf_counter()
    has_day = len(overnight) < len(instance.referrals)
    night_seconds = params.time_limit * (OVERNIGHT_SHARE if has_day else 0.9)
    nights = allocate_nights(instance, night_seconds, params.workers)
    if progress is not None:
        progress(min(1.0, (time.perf_counter() - started) / params.time_limit))
    remaining = max(0.1, params.time_limit - (time.perf_counter() - started))
    day = solve(instance, params.model_copy(update={"time_limit": remaining}))
    return day.model_copy(update={"params": params, "not_considered": [], "overnight": nights})
