"""Price alerts for the dashboard and scripts: set, list and delete (they fire in the core)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.core.alerts import AlertError
from app.server.deps import Ctx, CurrentUser
from app.server.errors import ApiError, not_found
from app.server.params import QueryInt
from app.server.routes import link, linked
from app.server.schemas import AlertIn, AlertOut

router = APIRouter(prefix="/api/alerts", tags=["alerts"])

AlertId = Annotated[QueryInt, Path(ge=1, le=2**63 - 1)]
_SET = linked(
    201, DeleteAlert=link("/api/alerts/{alert_id}", "delete", parameters={"alert_id": "$response.body#/id"})
)


@router.get("", response_model=list[AlertOut])
async def list_alerts(ctx: Ctx) -> list[AlertOut]:
    """Every alert, with when it last fired (``fired_at`` null until it does)."""
    return [AlertOut.of(a) for a in ctx.services.alerts.alerts()]


@router.post("", response_model=AlertOut, status_code=201, openapi_extra=_SET)
async def set_alert(body: AlertIn, ctx: Ctx, user: CurrentUser, response: Response) -> AlertOut:
    """Set an alert on a symbol's bid or ask; it fires in the app on the tick stream, also with no
    page open, and is announced on the ``alerts`` Socket.IO channel."""
    try:
        alert = await ctx.services.alerts.create(
            body.symbol, body.condition, body.price, repeat=body.repeat, note=body.note, actor=user.actor
        )
    except AlertError as exc:
        raise ApiError(422, exc.message, "invalid_alert", {"field": exc.field}) from None
    response.headers["Location"] = f"/api/alerts/{alert.id}"
    return AlertOut.of(alert)


@router.delete("/{alert_id}", status_code=204)
async def delete_alert(alert_id: AlertId, ctx: Ctx, user: CurrentUser) -> Response:
    if not await ctx.services.alerts.delete(alert_id, actor=user.actor):
        raise not_found(f"alert {alert_id}")
    return Response(status_code=204)
