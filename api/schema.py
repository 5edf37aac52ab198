"""Teach the schema generator the API's token authentication."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A vendor API token (fap_…); a compliance admin makes one at /vendor/api/tokens/.",
        }


PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "message": {"type": "string"},
                },
                "required": ["message"],
            },
        },
    },
    "required": ["type", "title", "status"],
}

ERRORS = {
    "400": "The request is not valid (each field's error in `errors`).",
    "401": "No credentials, or the token is unknown, expired or revoked.",
    "403": "The token or role may not do this (read-only token, viewer, CSRF).",
    "404": "No such record, or another vendor's.",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "415": "Unsupported media type.",
    "422": "A service refused the change (its message in `detail`, its field in `errors`).",
    "429": "Rate limit of the token reached; see Retry-After.",
}
WRITE_ONLY = {"415", "422"}


def add_problem_responses(result, generator, request, public):
    """Every operation documents the problem responses the API can give (RFC 9457)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    reference = {"$ref": "#/components/schemas/Problem"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                if code in WRITE_ONLY and method == "get":
                    continue
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/problem+json": {"schema": reference}},
                    },
                )
    return result
