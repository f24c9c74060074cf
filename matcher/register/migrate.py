"""Alembic, configured in code: no alembic.ini, the scripts ship inside the package.

:func:`upgrade` brings any register to the newest schema; it is what the register, the
service and the tests call. ``python -m matcher.register.migrate [URL]`` does the same by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # env.py runs the migrations on this engine's connection (see migrations/env.py).
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration not yet applied to the database behind ``engine``."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


if __name__ == "__main__":  # pragma: no cover - a maintenance entry point
    from matcher.register.database import Database

    upgrade(Database(sys.argv[1] if len(sys.argv) > 1 else None).engine)
