"""What every operation of the OpenAPI document shares, added once: the problem responses
(RFC 9457) and the Idempotency-Key header of every POST."""

from __future__ import annotations

from typing import Any

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "An RFC 9457 problem: `errors` maps each field (`__all__`: the request as a "
    "whole) to its messages.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["type", "title", "status"],
}

PROBLEMS = {
    "401": "No token, or not a valid one (unknown, expired, revoked, its member deactivated).",
    "403": "The token's scopes or its member's role do not allow this.",
    "404": "No such object in your companies.",
    "409": "A request with this Idempotency-Key is still in progress.",
    "422": "A rule or the request's format was not met: see `errors`.",
    "429": "Rate limited: retry after `Retry-After` seconds.",
}

IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "Retry this POST safely: the same key with the same body within 24 hours "
    "answers the first response again (`Idempotent-Replayed: true`) and changes nothing; with "
    "another body, 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


def openapi_schema_complete(schema: dict[str, Any]) -> dict[str, Any]:
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            # ninja keys the responses by int; JSON keys are strings: one key per status.
            responses = operation["responses"] = {
                str(code): response for code, response in operation["responses"].items()
            }
            codes = ["401", "403", "422", "429"]
            if "{" in path:
                codes.append("404")
            if method == "post":
                codes.append("409")
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in parameters):
                    parameters.append(IDEMPOTENCY_PARAMETER)
            for code in codes:
                responses.setdefault(code, _problem_response(PROBLEMS[code]))
    problem_media_types(schema)
    return schema


def problem_media_types(schema: dict[str, Any]) -> None:
    """Error responses an operation declares with a schema are problems: say so."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if str(code) >= "400" and "application/json" in content:
                    content.setdefault("application/problem+json", content.pop("application/json"))
