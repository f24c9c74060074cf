"""GET /health: the service answers, its database answers and can be written, its worker
runs. Answered within a second or so, whatever the database is doing."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from matcher.api.schemas import HealthOut
from matcher.register.faults import RETRY_AFTER, FaultKind
from matcher.service.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "The database cannot be reached."}},
)
def health(found: ServicesDep) -> HealthOut | JSONResponse:
    """Whether the service, its database and its job worker are up, and whether the
    register can be written (``degraded`` when it is busy or read-only: reading works).
    No token needed."""
    state = found.database.probe()
    out = HealthOut(
        status="ok" if state is None else "degraded",
        database=found.database.engine.dialect.name,
        writable=state is None,
        problem=None if state is None else state.kind.value,
        worker=found.worker.alive,
    )
    if state is not None and state.kind is FaultKind.UNAVAILABLE:
        out = out.model_copy(update={"status": "unavailable"})
        return JSONResponse(
            out.model_dump(mode="json"),
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER)},
        )
    return out
