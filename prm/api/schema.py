"""Every error an operation can answer is in the OpenAPI schema, with the one error body.

Integrators (and the contract tests, which check each answer's status code against the schema)
read from the schema what can go wrong. The errors the API answers the same way everywhere are
added here once, instead of by every viewset; an answer a view documents itself is kept as it is.

- 401 (no or refused credentials), 403 (role or scopes), 429 (rate limit): every operation;
- 404: operations on one object (a path with `{…}`) and paged lists (a page past the end);
- 400: every write, and every operation with query parameters (a filter refuses a value);
- 415: operations that read a body (a Content-Type they do not read);
- 409: deletes (the object is still in use).

405 and 406 are left out: the API answers them only to methods and media types the schema does
not offer.
"""

ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}
WRITES = ("post", "put", "patch", "delete")
OPERATIONS = ("get", *WRITES)

RETRY_AFTER = {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}
WWW_AUTHENTICATE = {
    "schema": {"type": "string"},
    "description": "How to authenticate: `Api-Key` after a refused API key, else `Token`.",
}

DESCRIPTIONS = {
    "400": "Bad input or a rule broken (`invalid`), or a body that is not JSON (`parse_error`): messages by "
    "field, as the request names it, or under non_field_errors. Nothing is changed.",
    "400-read": "A query parameter has a value the API cannot use (`invalid`): the message is under the "
    "parameter's name.",
    "401": "No credentials (`not_authenticated`), or credentials the API refuses: an unknown, revoked or expired "
    "API key, a bad token (`authentication_failed`).",
    "403": "Your role or your API key's scopes do not allow this (`permission_denied`).",
    "404": "No such object, or you may not see it (`not_found`).",
    "404-list": "No such page (`not_found`).",
    "409": "The object is still in use and cannot be deleted (`conflict`).",
    "415": "The body's Content-Type is not one this operation reads (`unsupported_media_type`).",
    "429": "Too many requests (`throttled`): try again after the seconds Retry-After says.",
}


def _error(description, headers=None):
    response = {"description": description, "content": {"application/json": {"schema": dict(ERROR_SCHEMA)}}}
    if headers:
        response["headers"] = headers
    return response


def _query_parameters(operation):
    return {parameter["name"] for parameter in operation.get("parameters", []) if parameter.get("in") == "query"}


def operation_errors(path, method, operation):
    """The error answers `operation` can give, by status code, as schema response objects."""
    query = _query_parameters(operation)
    errors = {
        "401": _error(DESCRIPTIONS["401"], {"WWW-Authenticate": dict(WWW_AUTHENTICATE)}),
        "403": _error(DESCRIPTIONS["403"]),
        "429": _error(DESCRIPTIONS["429"], {"Retry-After": dict(RETRY_AFTER)}),
    }
    if "{" in path:
        errors["404"] = _error(DESCRIPTIONS["404"])
    elif "page" in query:
        errors["404"] = _error(DESCRIPTIONS["404-list"])
    if method in WRITES:
        errors["400"] = _error(DESCRIPTIONS["400"])
    elif query:
        errors["400"] = _error(DESCRIPTIONS["400-read"])
    if "requestBody" in operation:
        errors["415"] = _error(DESCRIPTIONS["415"])
    if method == "delete":
        errors["409"] = _error(DESCRIPTIONS["409"])
    return errors


def error_responses_hook(result, generator, request, public):
    """drf-spectacular postprocessing hook: adds the error answers of every operation (above)."""
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in OPERATIONS:
                continue
            responses = operation.setdefault("responses", {})
            for code, response in operation_errors(path, method, operation).items():
                responses.setdefault(code, response)
            operation["responses"] = dict(sorted(responses.items()))
    return result
