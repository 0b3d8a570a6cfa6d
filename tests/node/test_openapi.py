"""/openapi.json is valid OpenAPI 3.1 and describes every route node/rpc.py serves."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from node.errors import RpcErrorCode
from node.openapi import openapi_document
from node.rpc import make_rpc_app


def served_routes() -> set[tuple[str, str]]:
    """(method, path) of every route of the RPC app, as OpenAPI spells paths."""
    app = make_rpc_app(node=None, max_body_bytes=1024)  # type: ignore[arg-type]
    routes = set()
    for route in app.router.routes():
        if route.method == "HEAD":  # aiohttp adds HEAD beside each GET
            continue
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        routes.add((route.method.lower(), path))
    return routes


def documented_routes(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "delete", "patch")
    }


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_route_is_documented_and_nothing_else() -> None:
    assert served_routes() == documented_routes(openapi_document())


def test_path_parameters_match_the_route_templates() -> None:
    for path, operations in openapi_document()["paths"].items():
        names = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        for operation in operations.values():
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == names, path


def test_the_error_schema_and_codes_are_described() -> None:
    document = openapi_document()
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"error", "message"}
    assert set(error["properties"]["error"].get("enum", [])) == {c.value for c in RpcErrorCode}
