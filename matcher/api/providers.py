"""Providers: the register's providers, one at a time or from a council's CSV files."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, status

from matcher.api.schemas import ImportOut, ProviderList, ProvidersImportIn
from matcher.errors import NotFound
from matcher.formats.csv import import_providers_csv
from matcher.model import Provider
from matcher.register.records import add_providers
from matcher.service.deps import Admin, Reading, ServicesDep, may_see_provider

router = APIRouter(prefix="/providers", tags=["providers"])


@router.get("", response_model=ProviderList)
def list_providers(found: ServicesDep, who: Reading) -> ProviderList:
    """Every provider in the register (a provider's token sees only itself)."""
    instance = found.register.instance()
    return ProviderList(providers=[p for p in instance.providers if may_see_provider(who, p.id)])


@router.get("/{provider_id}", response_model=Provider)
def get_provider(provider_id: str, found: ServicesDep, who: Reading) -> Provider:
    instance = found.register.instance()
    if provider_id not in instance.provider_index or not may_see_provider(who, provider_id):
        raise NotFound("no such provider")
    return instance.provider(provider_id)


@router.post(
    "",
    response_model=Provider,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "A provider with this id exists."}},
)
def create_provider(provider: Provider, found: ServicesDep, who: Admin) -> Provider:
    """Add one provider (its capacity goes on the ledger)."""
    with found.database.write() as session:
        add_providers(session, found.register.instance(session), [provider], replace=False)
    return provider


@router.post(
    "/import",
    response_model=ImportOut,
    responses={409: {"description": "A provider exists and replace is false."}},
)
def import_providers(body: ProvidersImportIn, found: ServicesDep, who: Admin) -> ImportOut:
    """Add (or with ``replace``, replace) providers from the provider and units CSVs.

    Errors name the file, row and column; on any error nothing is written.
    """
    with found.database.write() as session:
        instance = found.register.instance(session)
        with tempfile.TemporaryDirectory() as folder:
            providers_csv = Path(folder) / "providers.csv"
            providers_csv.write_text(body.providers_csv, encoding="utf-8")
            units_csv = None
            if body.units_csv is not None:
                units_csv = Path(folder) / "units.csv"
                units_csv.write_text(body.units_csv, encoding="utf-8")
            providers = import_providers_csv(providers_csv, instance.settings, units_csv)
        add_providers(session, instance, providers, replace=body.replace)
    known = instance.provider_index
    return ImportOut(
        added=[p.id for p in providers if p.id not in known],
        replaced=[p.id for p in providers if p.id in known],
    )
