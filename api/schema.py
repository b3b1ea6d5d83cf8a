"""
OpenAPI additions: the bearer scheme of our authentication class, and the error responses
every operation can give, documented from the same rules the views follow.
"""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.utils import OpenApiResponse

ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "Every error has this shape; `errors` is present for invalid input only, "
        "`retry_after` for a limit (429) only."
    ),
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "retry_after": {"type": "integer", "description": "Seconds until a retry may succeed."},
    },
    "required": ["detail", "code"],
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}


_DESCRIPTIONS = {
    "400": "Invalid input: a malformed body, or field errors in `errors`.",
    "401": "No token, or one that is invalid, expired, revoked or of the wrong type.",
    "403": "CSRF verification failed: no X-CSRFToken header matching Django's CSRF cookie.",
    "404": "No such object (or not yours), or no such page.",
    "429": (
        "Too many failed sign-ins for this account or address, or too many sign-ups or "
        "reset requests from this address."
    ),
}
_HEADERS = {
    "401": {"WWW-Authenticate": "The scheme to authenticate with: Bearer."},
    "429": {"Retry-After": "Seconds until the lockout or the limit ends."},
}


def error_response(status_code: int) -> OpenApiResponse:
    """Return the documented error response for a view to declare in @extend_schema."""
    return OpenApiResponse(ERROR_REF, description=_DESCRIPTIONS[str(status_code)])


def _error_response_object(code: str) -> dict:
    return {
        "description": _DESCRIPTIONS[code],
        "content": {"application/json": {"schema": ERROR_REF}},
    }


class JWTBearerScheme(SimpleJWTScheme):
    target_class = "api.authentication.JWTBearerAuthentication"
    name = "jwtAuth"


def document_error_responses(result, generator, request, public):
    """
    Add the error responses to each operation: 401 where a token is required; 400 where
    there is input (a body, or query or header parameters other than the page); 404 where
    a path names an object or a list is paginated; and the headers of 401 and 429.
    Responses a view declares itself (such as 429 on the token endpoint) are kept.
    """
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            parameters = operation.get("parameters", [])
            places = {parameter["in"] for parameter in parameters}
            # A bad page number is a 404 (DRF's pagination), never a 400.
            inputs = {p["in"] for p in parameters if p["name"] != "page"} & {"query", "header"}
            responses = operation["responses"]
            security = operation.get("security", [])
            if security and {} not in security:
                responses.setdefault("401", _error_response_object("401"))
            if "requestBody" in operation or inputs:
                responses.setdefault("400", _error_response_object("400"))
            if "path" in places or any(p["name"] == "page" for p in parameters):
                responses.setdefault("404", _error_response_object("404"))
            for code, headers in _HEADERS.items():
                if code in responses:
                    responses[code]["headers"] = {
                        name: {"description": text, "schema": {"type": "string"}}
                        for name, text in headers.items()
                    }
    return result


# DRF's CharField refuses a NUL character (400 null_characters_not_allowed) in every text
# input; the schema says so, so that clients and schema-driven tests know it.
NO_NULL_CHARACTER = "^[^\\u0000]*$"


def _forbid_null_characters(schema: dict) -> None:
    if schema.get("type") == "string" and "pattern" not in schema and "enum" not in schema:
        schema["pattern"] = NO_NULL_CHARACTER
    for member in schema.get("properties", {}).values():
        _forbid_null_characters(member)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _forbid_null_characters(schema[key])
    for key in ("oneOf", "anyOf", "allOf"):
        for member in schema.get(key, []):
            _forbid_null_characters(member)


def document_text_inputs(result, generator, request, public):
    """Say in every request body and query parameter that text may not hold a NUL."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        # COMPONENT_SPLIT_REQUEST names every input component "...Request".
        if name.endswith("Request"):
            _forbid_null_characters(schema)
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    _forbid_null_characters(parameter.get("schema", {}))
    return result
