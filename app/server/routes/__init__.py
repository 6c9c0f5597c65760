"""The REST routes: thin adapters over the services, grouped by what they serve."""

from __future__ import annotations

from typing import Any

from app.server.schemas import ErrorBody

ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 422, 429, 500, 502, 503, 504)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the uniform error body at these statuses (all of them by default)."""
    return {status: {"model": ErrorBody} for status in (statuses or ERROR_STATUSES)}
