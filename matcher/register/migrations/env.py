"""Alembic's environment: run the migrations on the engine handed over in the config."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Engine

from matcher.register.tables import Base

config = context.config
engine: Engine = config.attributes["engine"]

with engine.execution_options(write=True).connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
