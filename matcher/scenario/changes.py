"""Carrying out a variant's changes on the base instance.

The changes work on the instance as a document and the result is validated again as a
whole (:meth:`Instance.build`), so a variant can never hand the solver an instance that
breaks a rule of the model. An error names the variant, the change and what it refers
to that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from matcher.errors import InputError, MatcherError, Problem
from matcher.formats.files import instance_document
from matcher.model import Contract, Instance, Weekday
from matcher.scenario.spec import (
    AddProvider,
    AddReferrals,
    AddUnit,
    Beds,
    Budget,
    Change,
    Demand,
    FixedRate,
    OpenDays,
    Priority,
    Rates,
    RatingChange,
    RemoveProvider,
    SpotRates,
    StaffHoursChange,
    Variant,
)

Doc = dict[str, Any]


class _Unknown(Exception):
    """A change names a record the instance does not have."""


def apply_variant(
    base: Instance, variant: Variant, *, seed: int = 0, where: str = "", hidden: bool = False
) -> tuple[Instance, float | None]:
    """The base with the variant's changes, validated, and the variant's budget (if any).

    ``where`` is the variant's place in the scenario file, for error messages. ``hidden``:
    the base's children are not the author's to know (a commissioner's document run on
    the register), so nothing in the answer may depend on which ids exist: see
    :func:`_add_referrals`.
    """
    doc = instance_document(base)
    budget: float | None = None
    for j, change in enumerate(variant.changes):
        place = f"{where}.changes[{j}] ({change.change})"
        try:
            if isinstance(change, Budget):
                budget = change.amount
            elif isinstance(change, AddReferrals) and hidden:
                _add_referrals_hidden(doc, change, j)
            else:
                _APPLY[type(change)](doc, change, _rng(seed, variant.name, j))
        except _Unknown as exc:
            raise InputError(Problem(place, str(exc))) from None
    try:
        return Instance.build(doc), budget
    except MatcherError as exc:
        problems = [
            Problem(f"{where}: the changed instance, {_said(p.location, hidden)}", p.message)
            for p in exc.problems
        ]
        raise InputError(problems) from None


_A_REFERRAL = re.compile(r"referrals\[\d+\] \([^)]*\)")


def _said(location: str, hidden: bool) -> str:
    """A problem's place in the changed instance; with ``hidden``, never naming a child of
    the register (only the children the document adds, under their new ids)."""
    if not hidden:
        return location
    return _A_REFERRAL.sub(
        lambda m: m.group(0) if "(ADDED-" in m.group(0) else "a child of the register", location
    )


def _rng(seed: int, name: str, index: int) -> np.random.Generator:
    # A variant's draws depend on the seed, its name and the change's place only, so
    # adding a variant to a file does not change what another one draws.
    return np.random.default_rng([seed, *name.encode("utf-8"), index])


def _provider(doc: Doc, provider_id: str) -> Doc:
    # The provider's own dict inside doc (changes are made in place).
    for provider in doc["providers"]:
        if provider["id"] == provider_id:
            result: Doc = provider
            return result
    raise _Unknown(f"no provider {provider_id!r} in the base instance")


def _unit(provider: Doc, unit_id: str) -> Doc:
    for unit in provider.get("units", []):
        if unit["id"] == unit_id:
            result: Doc = unit
            return result
    raise _Unknown(f"provider {provider['id']!r} has no overnight unit {unit_id!r}")


def _add_provider(doc: Doc, change: AddProvider, _: np.random.Generator) -> None:
    if any(p["id"] == change.provider.id for p in doc["providers"]):
        raise _Unknown(f"provider {change.provider.id!r} is already in the base instance")
    doc["providers"].append(change.provider.model_dump(mode="json", exclude_defaults=True))


def _remove_provider(doc: Doc, change: RemoveProvider, _: np.random.Generator) -> None:
    gone = {u["id"] for u in _provider(doc, change.provider).get("units", [])}
    doc["providers"] = [p for p in doc["providers"] if p["id"] != change.provider]
    for referral in doc["referrals"]:
        if gone & set(referral.get("nights_used", {})):
            # Nights had in a unit that is gone count towards no limit any more.
            referral["nights_used"] = {
                u: n for u, n in referral["nights_used"].items() if u not in gone
            }
        if referral.get("current_provider_id") == change.provider:
            # Back on the waiting list: the allocation looks for a new place.
            referral.pop("current_provider_id")
        for key in ("refused_provider_ids", "preferred_provider_ids"):
            if change.provider in referral.get(key, []):
                referral[key] = [p for p in referral[key] if p != change.provider]


def _add_unit(doc: Doc, change: AddUnit, _: np.random.Generator) -> None:
    provider = _provider(doc, change.provider)
    units = provider.setdefault("units", [])
    if any(u["id"] == change.unit.id for p in doc["providers"] for u in p.get("units", [])):
        raise _Unknown(f"unit {change.unit.id!r} is already in the base instance")
    units.append(change.unit.model_dump(mode="json", exclude_defaults=True))


def _beds(doc: Doc, change: Beds, _: np.random.Generator) -> None:
    unit = _unit(_provider(doc, change.provider), change.unit)
    beds = unit.get("beds", 0)
    solo = unit.get("solo_rooms", 0)
    if change.beds is not None:
        beds = change.beds
    if change.add_beds is not None:
        beds += change.add_beds
    if change.solo_rooms is not None:
        solo = change.solo_rooms
    if change.add_solo_rooms is not None:
        solo += change.add_solo_rooms
    if beds < 0 or solo < 0:
        raise _Unknown(f"unit {change.unit!r} would have {beds} beds and {solo} solo rooms")
    unit["beds"], unit["solo_rooms"] = beds, solo


def _open_days(doc: Doc, change: OpenDays, _: np.random.Generator) -> None:
    provider = _provider(doc, change.provider)
    units = [_unit(provider, change.unit)] if change.unit else provider.get("units", [])
    if not units:
        raise _Unknown(f"provider {change.provider!r} has no overnight units")
    for unit in units:
        if change.open is not None:
            days = set(change.open)
        else:
            days = set(unit.get("open_days", list(Weekday))) - set(change.closed or [])
        unit["open_days"] = [d.value for d in Weekday if d in days]


def _staff_hours(doc: Doc, change: StaffHoursChange, _: np.random.Generator) -> None:
    provider = _provider(doc, change.provider)
    hours: dict[str, float] = provider.setdefault("staff_hours", {})
    workers: dict[str, int] = provider.setdefault("workers", {})
    slot_ids = {s["id"] for s in doc["settings"]["time_slots"]}
    slots = change.slots if change.slots is not None else list(hours)
    for slot in slots:
        if slot not in slot_ids:
            raise _Unknown(f"no time slot {slot!r} in the base instance")
        if change.hours is not None:
            hours[slot] = change.hours
        elif change.scale is not None:
            hours[slot] = round(hours.get(slot, 0.0) * change.scale, 4)
            if slot in workers:
                # As many workers as the hours scaled, and at least one if any hours are left.
                scaled = round(workers[slot] * change.scale)
                workers[slot] = max(scaled, 1 if hours[slot] > 0 else 0)
        if change.workers is not None:
            workers[slot] = change.workers


def _rates(doc: Doc, change: Rates, _: np.random.Generator) -> None:
    settings = doc["settings"]
    if change.fixed_hourly_rate is not None:
        settings["fixed_hourly_rate"] = change.fixed_hourly_rate
        # A new rate is set from the planning date: no uplift has accrued on it yet.
        settings["rate_effective_from"] = settings["planning_date"]
    if change.annual_uplift is not None:
        settings["annual_uplift"] = change.annual_uplift
    if change.night_rate is not None:
        settings["night_rate"] = change.night_rate


def _spot_rates(doc: Doc, change: SpotRates, _: np.random.Generator) -> None:
    provider = _provider(doc, change.provider)
    if provider["contract"] != Contract.OFF_LIST.value:
        raise _Unknown(f"provider {change.provider!r} is on the framework: it has no spot rates")
    if change.hourly is not None:
        provider["spot_hourly_rate"] = change.hourly
    if change.night is not None:
        provider["spot_night_rate"] = change.night


def _fixed_rate(doc: Doc, change: FixedRate, _: np.random.Generator) -> None:
    targets = (
        [_provider(doc, p) for p in change.providers]
        if change.providers is not None
        else [p for p in doc["providers"] if p["contract"] == Contract.OFF_LIST.value]
    )
    for provider in targets:
        provider["contract"] = Contract.FRAMEWORK.value
        provider.pop("spot_hourly_rate", None)
        provider.pop("spot_night_rate", None)


def _demand(doc: Doc, change: Demand, rng: np.random.Generator) -> None:
    places = {d["id"] for d in doc["settings"]["districts"]} | {
        d["id"] for d in doc["settings"].get("neighbouring_areas", [])
    }
    if change.district is not None and change.district not in places:
        raise _Unknown(f"no district {change.district!r} in the base instance")
    referrals = doc["referrals"]
    chosen = [
        i
        for i, r in enumerate(referrals)
        if (change.district is None or r["home_district"] == change.district)
        and (change.lot is None or r["service"] == change.lot.value)
        and (change.ratio is None or r["staff_ratio"] == change.ratio.value)
    ]
    if not chosen:
        raise _Unknown("no referral matches the filters given")
    if change.factor >= 1:
        whole, part = divmod(change.factor - 1, 1)
        copies = [i for i in chosen for _ in range(int(whole))]
        extra = round(part * len(chosen))
        copies += sorted(rng.choice(chosen, size=extra, replace=False).tolist())
        taken = {r["id"] for r in referrals}
        for n, i in enumerate(copies, start=1):
            referrals.append(_copy(referrals[i], n, taken))
    else:
        drop = round((1 - change.factor) * len(chosen))
        gone = {int(i) for i in rng.choice(chosen, size=drop, replace=False)}
        ids = {referrals[i]["id"] for i in gone}
        doc["referrals"] = [r for i, r in enumerate(referrals) if i not in gone]
        for referral in doc["referrals"]:
            if "incompatible_with" in referral:
                referral["incompatible_with"] = [
                    c for c in referral["incompatible_with"] if c not in ids
                ]


def _copy(referral: Doc, n: int, taken: set[str]) -> Doc:
    # New demand: a child like this one, newly referred, with no placement or history of
    # their own. The id is a new pseudonym derived from the original's.
    copy = {
        k: v
        for k, v in referral.items()
        if k not in ("current_provider_id", "nights_used", "incompatible_with")
    }
    base = referral["id"][:32]
    new_id = f"{base}.d{n}"
    while new_id in taken:
        n += 1000
        new_id = f"{base}.d{n}"
    taken.add(new_id)
    copy["id"] = new_id
    return copy


def _add_referrals(doc: Doc, change: AddReferrals, _: np.random.Generator) -> None:
    taken = {r["id"] for r in doc["referrals"]}
    for referral in change.referrals:
        if referral.id in taken:
            raise _Unknown(f"referral {referral.id!r} is already in the base instance")
        doc["referrals"].append(referral.model_dump(mode="json", exclude_defaults=True))


def _add_referrals_hidden(doc: Doc, change: AddReferrals, index: int) -> None:
    """Added referrals on a register whose children the author may not see: each gets a
    new id that no child has (its id in the document is only a label), and may be named
    incompatible with another child the same change adds, never with anyone else. The
    same document gets the same answer whichever children exist."""
    taken = {r["id"] for r in doc["referrals"]}
    labels = [r.id for r in change.referrals]
    if len(set(labels)) != len(labels):
        raise _Unknown("a referral is listed twice")
    new_ids: dict[str, str] = {}
    n = 0
    for label in labels:
        n += 1
        while (new := f"ADDED-{index + 1}-{n}") in taken:
            n += 1
        new_ids[label] = new
    for referral in change.referrals:
        outside = [c for c in referral.incompatible_with if c not in new_ids]
        if outside:
            raise _Unknown(
                f"{referral.id}: incompatible_with may name only children this change adds; "
                "a scenario on the register cannot name its children"
            )
        added = referral.model_dump(mode="json", exclude_defaults=True)
        added["id"] = new_ids[referral.id]
        if referral.incompatible_with:
            added["incompatible_with"] = [new_ids[c] for c in referral.incompatible_with]
        doc["referrals"].append(added)


def _rating(doc: Doc, change: RatingChange, _: np.random.Generator) -> None:
    provider = _provider(doc, change.provider)
    rating: Doc = {
        "regulator": change.regulator.value,
        "overall": change.overall.value,
        "date": doc["settings"]["planning_date"],
    }
    if change.safeguarding is not None:
        rating["safeguarding"] = change.safeguarding.value
    others = [r for r in provider.get("ratings", []) if r["regulator"] != change.regulator.value]
    provider["ratings"] = [*others, rating]


def _priority(doc: Doc, change: Priority, _: np.random.Generator) -> None:
    doc["settings"]["priority_weights"] = {f.value: w for f, w in change.weights.items()}


_APPLY: dict[type, Callable[[Doc, Any, np.random.Generator], None]] = {
    AddProvider: _add_provider,
    RemoveProvider: _remove_provider,
    AddUnit: _add_unit,
    Beds: _beds,
    OpenDays: _open_days,
    StaffHoursChange: _staff_hours,
    Rates: _rates,
    SpotRates: _spot_rates,
    FixedRate: _fixed_rate,
    Demand: _demand,
    AddReferrals: _add_referrals,
    RatingChange: _rating,
    Priority: _priority,
}


def change_text(change: Change) -> str:
    """A change in words, for the report."""
    data = change.model_dump(mode="json", exclude_none=True, exclude={"change"})
    if isinstance(change, AddProvider):
        return f"add provider {change.provider.id}"
    if isinstance(change, AddReferrals):
        return f"add {len(change.referrals)} referrals"
    if isinstance(change, AddUnit):
        return f"add unit {change.unit.id} ({change.unit.beds} beds) at {change.provider}"
    parts = ", ".join(
        f"{k} {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in data.items()
    )
    name = change.change.replace("_", " ")
    return f"{name}: {parts}" if parts else name
