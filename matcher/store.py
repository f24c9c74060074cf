"""The capacity register, kept in a database: SQLite by default, any SQLAlchemy URL otherwise.

The register holds the council's settings, its providers and its referrals, one row per
record with the validated record as a JSON document. Loading it back goes through
:meth:`Instance.build`, so a register can never hand out an instance that breaks a
cross-reference. Replacing the register's contents happens in one transaction: a failure
leaves the previous contents in place.

The URL comes from ``DATABASE_URL``; without it, ``sqlite:///.matcher/register.sqlite``
in the current directory (the embedded default: no server to install).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, String, create_engine, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from matcher.errors import InputError
from matcher.model import Instance

DEFAULT_URL = "sqlite:///.matcher/register.sqlite"


class Base(DeclarativeBase):
    pass


class SettingsRow(Base):
    __tablename__ = "register_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class ProviderRow(Base):
    __tablename__ = "providers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class ReferralRow(Base):
    __tablename__ = "referrals"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


class Register:
    """The persistent register of one council."""

    def __init__(self, url: str | None = None):
        self.url = url or database_url()
        if self.url.startswith("sqlite:///") and not self.url.startswith("sqlite:///:memory:"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine: Engine = create_engine(self.url)
            Base.metadata.create_all(self.engine)
        except (ArgumentError, ModuleNotFoundError, OperationalError) as exc:
            raise InputError(f"cannot open the register at {self.url}: {exc}") from None

    def is_empty(self) -> bool:
        with Session(self.engine) as session:
            return session.get(SettingsRow, 1) is None

    def replace(self, instance: Instance) -> None:
        """Replace everything in the register with ``instance``, in one transaction."""
        with Session(self.engine) as session, session.begin():
            for table in (ReferralRow, ProviderRow, SettingsRow):
                session.execute(delete(table))
            session.add(SettingsRow(id=1, document=_doc(instance.settings)))
            session.add_all(
                ProviderRow(id=p.id, position=i, document=_doc(p))
                for i, p in enumerate(instance.providers)
            )
            session.add_all(
                ReferralRow(id=r.id, position=i, document=_doc(r))
                for i, r in enumerate(instance.referrals)
            )

    def load(self) -> Instance:
        """The register as a validated instance (raises InputError if it is inconsistent)."""
        with Session(self.engine) as session:
            settings = session.get(SettingsRow, 1)
            if settings is None:
                raise InputError(f"the register at {self.url} is empty: load an instance first")
            providers = session.scalars(select(ProviderRow).order_by(ProviderRow.position))
            provider_docs = [row.document for row in providers]
            referrals = session.scalars(select(ReferralRow).order_by(ReferralRow.position))
            referral_docs = [row.document for row in referrals]
            return Instance.build(
                {
                    "settings": settings.document,
                    "providers": provider_docs,
                    "referrals": referral_docs,
                }
            )


def _doc(record: Any) -> dict[str, Any]:
    # Through JSON so dates and enums are stored as the plain strings the schema expects.
    return dict(json.loads(record.model_dump_json(exclude_defaults=True)))
