"""The independent checker: reads an allocation and recomputes every rule and objective level.

It shares no code with the solver (:mod:`matcher.solver`, :mod:`matcher.constraints`,
:mod:`matcher.problem`): eligibility comes from the plain-Python rules
(:mod:`matcher.rules.checks`), capacity and nights are recounted from the placements and
calendars alone, and the night rules are written out again here on purpose
(:mod:`matcher.check.nights`). An empty list means the allocation keeps every hard rule
and its objective values are what the result claims.
"""

from __future__ import annotations

from matcher.check.day import check_day
from matcher.check.nights import check_nights
from matcher.check.violation import Violation
from matcher.model import Instance
from matcher.result import Result
from matcher.rules.checks import failed_rules

__all__ = ["Violation", "check", "check_day", "check_nights"]


def check(instance: Instance, result: Result) -> list[Violation]:
    """Every rule the allocation breaks, and every objective level it misreports."""
    found = check_day(instance, result)
    if result.overnight is not None:
        found += check_nights(instance, result.overnight)
    return found + _reassess(instance, result)


def _reassess(instance: Instance, result: Result) -> list[Violation]:
    """The panel's list is exactly the children kept with their current provider where it
    is suspended or the rules no longer allow the placement."""
    providers = {p.id: p for p in instance.providers}
    current = {r.id: r.current_provider_id for r in instance.referrals}
    kept = {(p.referral_id, p.provider_id, "day") for p in result.placements}
    if result.overnight is not None:
        runs = {u.id: p.id for p in instance.providers for u in p.units}
        for calendar in result.overnight.units:
            for children in calendar.calendar.values():
                if calendar.unit_id in runs:  # an unknown unit is the nights checker's to report
                    kept |= {(c, runs[calendar.unit_id], "overnight") for c in children}
    expected = {
        (rid, pid, service)
        for rid, pid, service in kept
        if pid in providers
        and current.get(rid) == pid
        and (
            providers[pid].suspended
            or failed_rules(instance, instance.referral(rid), providers[pid])
        )
    }
    listed = {(r.referral_id, r.provider_id, r.service) for r in result.reassess}
    return [
        Violation("reassess_missing", f"{rid} kept with {pid} ({service}), not listed")
        for rid, pid, service in sorted(expected - listed)
    ] + [
        Violation("reassess_wrong", f"{rid} at {pid} ({service}) listed for reassessment")
        for rid, pid, service in sorted(listed - expected)
    ]
