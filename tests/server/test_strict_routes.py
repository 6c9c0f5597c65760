"""Every route's input is declared strictly, checked over the code: each request model is a strict
pydantic model (no coercion, no unknown fields, no NaN, text kept byte-exact), and each typed query or
path parameter is parsed by :mod:`app.server.params` (one spelling per value). A new route that
forgets either fails here; ``test_strict_input.py`` shows the same against the running server."""

from __future__ import annotations

import types
import typing
from typing import Any, cast

from fastapi.routing import APIRoute
from pydantic import BaseModel, BeforeValidator

from app.server.app import create_api
from app.server.context import ServerContext
from app.server.params import StrictText


def _walk(routes: list[Any]) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        included = getattr(route, "original_router", None)  # an included router (FastAPI >= 0.16x)
        if included is not None:
            found += _walk(included.routes)
    return found


def api_routes() -> list[APIRoute]:
    api = create_api(cast(ServerContext, types.SimpleNamespace()))
    routes = _walk(api.routes)
    assert len(routes) >= 25
    return routes


def _metadata(annotation: Any) -> list[Any]:
    found: list[Any] = []
    for arg in typing.get_args(annotation):
        found += _metadata(arg)
    found += list(getattr(annotation, "__metadata__", ()))
    return found


def _base_types(annotation: Any) -> set[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _base_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_base_types(a) for a in typing.get_args(annotation)))
    return {annotation}


def test_every_request_model_is_strict() -> None:
    models = 0
    for route in api_routes():
        for param in route.dependant.body_params:
            model = param.field_info.annotation
            assert isinstance(model, type) and issubclass(model, BaseModel), (route.path, model)
            config = model.model_config
            assert config.get("strict") is True, f"{route.path}: {model.__name__} is not strict"
            assert config.get("extra") == "forbid", f"{route.path}: {model.__name__} takes unknown fields"
            assert config.get("allow_inf_nan") is False, f"{route.path}: {model.__name__} takes NaN"
            assert not config.get("str_strip_whitespace"), f"{route.path}: {model.__name__} strips text"
            models += 1
    assert models >= 5  # login, place, close, modify, accounts


def test_every_typed_query_and_path_parameter_is_parsed_strictly() -> None:
    checked = 0
    for route in api_routes():
        for param in route.dependant.query_params + route.dependant.path_params:
            info = param.field_info
            bases = _base_types(info.annotation) - {type(None)}
            if bases <= {str} or all(typing.get_origin(b) is typing.Literal for b in bases):
                continue  # text and choices have one spelling each already
            validators = [
                m.func
                for m in list(info.metadata) + _metadata(info.annotation)
                if isinstance(m, BeforeValidator)
            ]
            assert any(isinstance(v, StrictText) for v in validators), (
                f"{route.path}: parameter {param.alias!r} ({bases}) is not parsed by app.server.params"
            )
            checked += 1
    assert checked >= 10
