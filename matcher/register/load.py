"""``matcher load``: a council's own county into the register, from an instance file or
from its spreadsheets (CSV), with settings that give only what differs."""

from __future__ import annotations

from pathlib import Path

from matcher.errors import InputError, Problem
from matcher.model import Instance, Settings


def read_county(
    *,
    instance: Path | None,
    providers: Path | None,
    referrals: Path | None,
    units: Path | None,
    settings: Path | None,
) -> Instance:
    """The county from an instance file, or from CSV files (provider register, referral
    list, units); ``settings`` gives only the fields that differ from the instance's (or,
    for CSV files, from Lancashire's defaults)."""
    from matcher.counties import lancashire
    from matcher.formats.csv import import_csv
    from matcher.formats.files import load_instance, load_settings

    csv = [p for p in (providers, referrals, units) if p is not None]
    if instance is not None and csv:
        raise InputError(Problem("arguments", "give an instance file or CSV files, not both"))
    if instance is not None:
        loaded = load_instance(instance)
        if settings is None:
            return loaded
        council = load_settings(settings, loaded.settings)
        return Instance.build(
            {"settings": council, "providers": loaded.providers, "referrals": loaded.referrals}
        )
    if providers is None or referrals is None:
        raise InputError(
            Problem("arguments", "give an instance file, or --providers and --referrals (CSV)")
        )
    defaults: Settings = lancashire.settings()
    council = load_settings(settings, defaults) if settings is not None else defaults
    return import_csv(providers, referrals, council, units_csv=units)


def load_county(
    *,
    instance: Path | None = None,
    providers: Path | None = None,
    referrals: Path | None = None,
    units: Path | None = None,
    settings: Path | None = None,
    database: str | None = None,
    replace: bool = False,
) -> tuple[Instance, str]:
    """Read the county and put it in the register (in one transaction). A register that
    already holds a county is replaced only with ``replace``. Returns the county and the
    register's URL."""
    from matcher.register.store import Register

    county = read_county(
        instance=instance, providers=providers, referrals=referrals, units=units, settings=settings
    )
    register = Register(database)
    try:
        if not register.is_empty() and not replace:
            held = register.load()
            raise InputError(
                Problem(
                    "register",
                    f"{register.url} already holds {len(held.providers)} providers and "
                    f"{len(held.referrals)} referrals; give --replace to replace them (their "
                    "bookings go too)",
                )
            )
        register.replace(county)
        return county, register.url
    finally:
        register.database.dispose()
