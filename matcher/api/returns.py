"""Performance returns (``GET /returns``): the period's figures from the register, for
commissioners and administrators: figures only, no child (matcher.register.returns)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from matcher.errors import NotFound
from matcher.formats.spreadsheets import MEDIA_TYPES, as_bytes
from matcher.register.access import Principal, Role
from matcher.register.returns import compute, period
from matcher.service.deps import ServicesDep, allow

router = APIRouter(prefix="/returns", tags=["returns"])


@router.get(
    "",
    responses={
        200: {
            "content": {"application/json": {}} | {m: {} for m in MEDIA_TYPES.values()},
            "description": "The period's tables: a headline, by district, by service, "
            "occupancy, and the children waiting by reason.",
        }
    },
)
def get_returns(
    found: ServicesDep,
    who: Annotated[Principal, Depends(allow(Role.COMMISSIONER, Role.PROVIDER, Role.ADMIN))],
    month: Annotated[str | None, Query(description="YYYY-MM")] = None,
    quarter: Annotated[str | None, Query(description="YYYY-Qn")] = None,
    start: Annotated[date | None, Query(alias="from", description="First day")] = None,
    end: Annotated[date | None, Query(alias="to", description="Last day")] = None,
    format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
    provider: Annotated[
        str | None, Query(description="One provider's own returns (a provider: always its own)")
    ] = None,
) -> Response:
    """A month's, a quarter's or any period's performance returns: the council's, or one
    provider's own (a provider's token gets its own only)."""
    span = period(start, end, month, quarter)
    if who.role is Role.PROVIDER:
        provider = who.provider_id
    with found.database.read() as session:
        instance = found.register.instance(session)
        if provider is not None and provider not in instance.provider_index:
            raise NotFound("no such provider")
        figures = compute(
            session, instance, span, provider, suppressed=who.role is Role.COMMISSIONER
        )
    if format == "json":
        import orjson

        data = {
            "council": figures.council,
            "from": span.start.isoformat(),
            "to": span.end.isoformat(),
            "tables": [
                {"name": t.name, "header": t.header, "rows": t.rows} for t in figures.tables
            ],
        }
        return Response(orjson.dumps(data), media_type="application/json")
    name = f"returns-{span.start}-{span.end}.{format}"
    return Response(
        as_bytes(figures.tables, format),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
