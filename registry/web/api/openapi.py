"""The OpenAPI 3.1 document of ``/api/v1``, generated from the routes themselves.

Each API view carries an :func:`operation` description (summary, query, body and response
models); paths, path parameters, methods and security come from Flask's URL map and the view's
access rule (:mod:`registry.web.access`). Building the document fails if a route has no
description, so a new endpoint cannot go undocumented.

Why not flask-smorest, spectree or flask-openapi3: they validate requests themselves and answer
with their own error shapes, or install app-wide error handlers, while this registry already
enforces access centrally and promises one error shape; pydantic (which SQLModel brings)
provides the JSON Schemas, and this module only assembles them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask
from pydantic import BaseModel
from werkzeug.routing import IntegerConverter, Rule

from registry.web.access import ACCESS_ATTR, AccessRule
from registry.web.api.schemas import Error

OPERATION_ATTR = "_api_operations"
PLACEHOLDER = re.compile(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([A-Za-z_][A-Za-z0-9_]*)>")
REF = "#/components/schemas/{model}"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
ANY_METHOD = "*"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    responses: dict[int, type[BaseModel] | str | None]
    """Status → response model; a string is a media type without a schema (HTML); ``None``, no body."""
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    description: str = ""
    extra_errors: tuple[int, ...] = field(default=())


def operation(
    summary: str,
    *,
    tag: str,
    responses: dict[int, type[BaseModel] | str | None],
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
    method: str = ANY_METHOD,
) -> Callable[[F], F]:
    """Describe a view for the OpenAPI document; ``method`` tells apart a view's methods.

    Errors common to the kind of route (401/403 when signed in, 404 with a path parameter,
    400/422 with a body) are added by the builder; ``errors`` names the others (409…).
    """

    def mark(view: F) -> F:
        described: dict[str, Operation] = dict(getattr(view, OPERATION_ATTR, {}))
        described[method] = Operation(
            summary=summary,
            tag=tag,
            responses=responses,
            query=query,
            body=body,
            description=_docstring(view),
            extra_errors=errors,
        )
        setattr(view, OPERATION_ATTR, described)
        return view

    return mark


def _docstring(view: Callable[..., Any]) -> str:
    lines = (view.__doc__ or "").strip().splitlines()
    if not lines:
        return ""
    indent = min((len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()), default=0)
    return "\n".join([lines[0], *(line[indent:] for line in lines[1:])]).strip()


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, model: type[BaseModel], mode: str = "serialization") -> dict[str, str]:
        if model.__name__ not in self.schemas:
            schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
            self.schemas.update(schema.pop("$defs", {}))
            self.schemas[model.__name__] = schema
        return {"$ref": REF.format(model=model.__name__)}

    def properties(self, model: type[BaseModel]) -> tuple[dict[str, Any], set[str]]:
        schema = model.model_json_schema(ref_template=REF, mode="validation")
        self.schemas.update(schema.pop("$defs", {}))
        return schema.get("properties", {}), set(schema.get("required", []))


def openapi_path(rule: Rule) -> str:
    """``/systems/<code>`` or ``/warnings/<int:warning_id>`` as OpenAPI writes it: ``/systems/{code}``."""
    return PLACEHOLDER.sub(r"{\1}", rule.rule)


def _path_parameters(rule: Rule) -> list[dict[str, Any]]:
    parameters = []
    for name in sorted(rule.arguments):
        converter = rule._converters.get(name)
        schema: dict[str, Any] = {"type": "string"}
        if isinstance(converter, IntegerConverter):
            schema = {"type": "integer", "minimum": 0}
            if converter.max is not None:
                schema["maximum"] = converter.max
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return parameters


def _query_parameters(components: _Components, model: type[BaseModel]) -> list[dict[str, Any]]:
    properties, required = components.properties(model)
    parameters = []
    for name, schema in properties.items():
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": schema,
        }
        if "description" in schema:
            parameter["description"] = schema.pop("description")
        if schema.get("type") == "array":
            parameter.update(style="form", explode=True)
        parameters.append(parameter)
    return parameters


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


ERROR_TEXT = {
    400: "The request cannot be read (not JSON, bad query parameter, missing CSRF token).",
    401: "No valid session or API token.",
    403: "The role, the agency or the token's scope does not allow this.",
    404: "No such record.",
    409: "The record changed since it was read (see `current_version`), or the move is not possible now.",
    422: "Some fields are not valid: see `fields`.",
}


def _responses(
    components: _Components, op: Operation, rule: Rule, method: str, access: AccessRule
) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, model in op.responses.items():
        if model is None:
            responses[str(status)] = {"description": "No content."}
        elif isinstance(model, str):
            schema = {"type": "object"} if model == "application/json" else {"type": "string"}
            responses[str(status)] = {"description": "A document.", "content": {model: {"schema": schema}}}
        else:
            description = (model.__doc__ or model.__name__).strip().splitlines()[0]
            responses[str(status)] = {"description": description, "content": _json(components.ref(model))}
    errors = set(op.extra_errors)
    if not access.public:
        errors |= {401, 403}
    if rule.arguments:
        errors.add(404)
    if op.query is not None:
        errors.add(400)
    if method in BODY_METHODS or method == "DELETE":
        errors |= {400}
    if op.body is not None:
        errors.add(422)
    for status in sorted(errors):
        responses[str(status)] = {"description": ERROR_TEXT[status], "content": _json(components.ref(Error))}
    return responses


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of every ``api.*`` route; raises if one is not described."""
    components = _Components()
    components.ref(Error)
    paths: dict[str, dict[str, Any]] = {}
    undescribed: list[str] = []
    rules = sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")), key=lambda r: r.rule
    )
    for rule in rules:
        view = app.view_functions[rule.endpoint]
        described: dict[str, Operation] = getattr(view, OPERATION_ATTR, {})
        access: AccessRule = getattr(view, ACCESS_ATTR)
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        for method in methods:
            op = described.get(method) or described.get(ANY_METHOD)
            if op is None:
                undescribed.append(f"{method} {rule.rule}")
                continue
            item: dict[str, Any] = {
                "operationId": rule.endpoint.removeprefix("api.")
                + (f"_{method.lower()}" if len(methods) > 1 else ""),
                "summary": op.summary,
                "tags": [op.tag],
                "parameters": _path_parameters(rule)
                + (_query_parameters(components, op.query) if op.query else []),
                "responses": _responses(components, op, rule, method, access),
            }
            if op.description:
                item["description"] = op.description
            if op.body is not None:
                item["requestBody"] = {
                    "required": True,
                    "content": _json(components.ref(op.body, "validation")),
                }
            if access.public:
                item["security"] = []
            elif access.permission is not None:
                item["x-permission"] = access.permission.value
            paths.setdefault(openapi_path(rule), {})[method.lower()] = item
    if undescribed:
        raise RuntimeError(f"API routes without an OpenAPI description: {', '.join(undescribed)}")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Registry of information systems",
            "version": "1",
            "description": (
                "Read and maintain the registry of information systems. Authenticate with an API "
                "token (`Authorization: Bearer htr_…`, issued on your account page) or, from the "
                "registry's own pages, the session cookie plus the `X-CSRFToken` header for writes. "
                "A read-scoped token cannot write. Errors always have the shape "
                '`{"error": {"code", "message", "fields"?}}`.'
            ),
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.schemas.items())),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "htr_…"},
                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
        "security": [{"bearerAuth": []}, {"cookieAuth": []}],
        "tags": [
            {"name": name}
            for name in (
                "systems",
                "workflow",
                "dependencies",
                "review",
                "portfolio",
                "reporting",
                "jobs",
                "agencies",
                "similar",
                "account",
                "meta",
            )
        ],
    }
