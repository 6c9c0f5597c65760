"""The REST routes: thin adapters over the services, grouped by what they serve."""

from __future__ import annotations

from typing import Any

from app.server.schemas import ErrorBody

ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 422, 429, 500, 502, 503, 504)


def link(path: str, method: str, **wiring: Any) -> dict[str, Any]:
    """An OpenAPI link from a response to the operation at ``method path`` (``parameters`` or
    ``requestBody`` filled from the response): clients — and schemathesis's stateful phase — follow
    what an answer created to what can be done with it."""
    pointer = "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method
    return {"operationRef": pointer, **wiring}


def linked(status: int, **links: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` adding ``links`` to the ``status`` answer of a route."""
    return {"responses": {str(status): {"links": links}}}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the uniform error body at these statuses (all of them by default)."""
    return {status: {"model": ErrorBody} for status in (statuses or ERROR_STATUSES)}
