"""GET /health: the service answers, its database answers, its worker runs."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from matcher.api.deps import ServicesDep
from matcher.api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut)
def health(found: ServicesDep) -> HealthOut:
    """Whether the service, its database and its job worker are up. No token needed."""
    with found.database.read() as session:
        session.execute(text("SELECT 1"))
    return HealthOut(
        status="ok",
        database=found.database.engine.dialect.name,
        worker=found.worker.alive,
    )
