"""The entitlement check's lean path: a provisioning system asks it on every sign-in of every
partner, so the plain case (a bearer token, one model, one customer, both found) costs one SQL
statement and one Redis round trip instead of DRF's negotiation, five ORM queries and a
throttle history rewritten per call.

It answers only what it can answer exactly as ``EntitlementView`` would, with the same rules:
the token is found by its digest and judged by ``token_acts`` (expired, revoked, creator gone),
the request counts in the token's rate window (``throttling.hit``), the last use is noted at
most once a minute (``note_use``), the model and customer are chosen by the selector's own
``pick_models`` / ``pick_customers`` among the vendor's rows, and the answer is the selector's
``decide`` rendered by ``entitlement_data``. Anything else (no token, an unknown token, a
refused or throttled call, an unknown model or customer, odd parameters, another database than
PostgreSQL) returns ``None`` and the DRF view answers it, problems and all.

A repeated check is answered from ``api.entitlement_cache`` (one Redis round trip, no SQL):
an answer kept there is cleared by any change that could alter it, the token's included.
"""

import functools
import json
from datetime import date, datetime
from urllib.parse import parse_qsl

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models.base import ModelState
from django.http import HttpResponse
from django.utils import timezone

from api import entitlement_cache
from api.models import ApiToken
from api.serializers.entitlements import entitlement_data
from api.services.tokens import note_use, token_acts, token_digest
from api.throttling import COUNTED, TokenRateThrottle, hit, token_key
from approvals.models import Agency, Condition, EnforcementAction, Grant
from approvals.selectors.entitlements import _day, as_int, decide, pick_customers, pick_models
from portal.accounts.models import User
from portal.db_operations import execute_prepared
from vendors.models import FrontierModel, PartnerCustomer, Vendor

PARAMETERS = frozenset({"model", "customer"})
MAX_LENGTH = 200  # EntitlementQuery's max_length
JSON_TYPES = ("*/*", "application/*", "application/json")
ALLOW = "GET, HEAD, OPTIONS"


def _table(model):
    return connection.ops.quote_name(model._meta.db_table)


RECENT_TOKENS = 10_000
_tokens = {}  # token id -> the token as this worker last noted its use (cached answers)
PREPARED = "api_entitlement_check"
PARAMETER_TYPES = "text, bigint, text, text, text, bigint, text, text, text"


@functools.cache
def _statement():
    """The token (with its creator and vendor), the vendor's candidate models and customers,
    and their grants with conditions and enforcement actions, as JSON, in one statement."""
    return f"""
WITH tok AS (
    SELECT t.id, t.vendor_id, t.scope, t.created_by_id, t.created_at, t.expires_at,
           t.last_used_at, t.revoked_at, u.is_active, u.role, u.organisation_id AS user_org,
           v.organisation_id AS vendor_org
    FROM {_table(ApiToken)} t
    JOIN {_table(User)} u ON u.id = t.created_by_id
    JOIN {_table(Vendor)} v ON v.id = t.vendor_id
    WHERE t.secret_sha256 = $1
), m AS (
    SELECT id, vendor_id, name, version, release_phase FROM {_table(FrontierModel)}
    WHERE vendor_id = (SELECT vendor_id FROM tok)
      AND (id = $2 OR UPPER(name) = UPPER($3)
           OR (UPPER(name) = UPPER($4) AND UPPER(version) = UPPER($5)))
), c AS (
    SELECT id, vendor_id, legal_name, registration_id FROM {_table(PartnerCustomer)}
    WHERE vendor_id = (SELECT vendor_id FROM tok)
      AND (id = $6 OR registration_id = $7)
), g AS (
    SELECT g.id, g.frontier_model_id, g.partner_customer_id, g.valid_from, g.valid_to, g.status,
           g.status_changed_at, g.status_reason, g.access_request_id, g.suspended_by_id,
           sa.kind AS suspension_kind, sa.taken_at AS suspension_taken_at,
           ra.id AS revocation_id, ra.kind AS revocation_kind, ra.taken_at AS revocation_taken_at,
           (SELECT COALESCE(json_agg(json_build_object(
                       'id', co.id, 'text', co.text, 'kind', co.kind, 'agency_code', ag.code)
                       ORDER BY ag.code, co.id), '[]'::json)
            FROM {_table(Grant.conditions.through)} gc
            JOIN {_table(Condition)} co ON co.id = gc.condition_id
            JOIN {_table(Agency)} ag ON ag.id = co.agency_id
            WHERE gc.grant_id = g.id) AS conditions
    FROM {_table(Grant)} g
    LEFT JOIN {_table(EnforcementAction)} sa ON sa.id = g.suspended_by_id
    LEFT JOIN LATERAL (
        SELECT id, kind, taken_at FROM {_table(EnforcementAction)}
        WHERE g.status = $8 AND grant_id = g.id AND kind = $9
        ORDER BY id DESC LIMIT 1
    ) ra ON TRUE
    WHERE g.frontier_model_id IN (SELECT id FROM m) AND g.partner_customer_id IN (SELECT id FROM c)
)
SELECT (SELECT row_to_json(tok) FROM tok), (SELECT json_agg(m) FROM m),
       (SELECT json_agg(c) FROM c), (SELECT json_agg(g) FROM g)
"""  # noqa: S608 - table names from the models; every value is a parameter


_CONVERTERS = {}


def _execute(db, cursor, values):
    """Run the statement, prepared once per database connection: its plan is then made once
    (it would cost more than running it), not at every call."""
    execute_prepared(db, cursor, PREPARED, _statement(), values, types=PARAMETER_TYPES)
    return cursor.fetchone()


def _converter(model, name):
    """How a JSON value of ``model.name`` becomes the Python value the ORM would have loaded."""
    key = (model, name)
    if key not in _CONVERTERS:
        field = model._meta.get_field(name)
        if field.attname != name and field.name == name:
            raise ValueError(f"Give {model.__name__}.{name} as {field.attname}.")
        if isinstance(field, models.DateTimeField):
            _CONVERTERS[key] = datetime.fromisoformat
        elif isinstance(field, models.DateField):
            _CONVERTERS[key] = date.fromisoformat
        else:
            _CONVERTERS[key] = None
    return _CONVERTERS[key]


def _instance(model, row, **related):
    """A model instance holding the fields in ``row`` (with the ORM's Python types) and the
    related objects given, as ``from_db`` would make it but without ``__init__``'s walk over
    every field. The fields left out stay deferred: reading one would query, which the tests'
    query counts would show."""
    instance = model.__new__(model)
    values = instance.__dict__
    for name, value in row.items():
        convert = _converter(model, name)
        values[name] = convert(value) if convert and value is not None else value
    state = instance._state = ModelState()
    state.adding, state.db = False, DEFAULT_DB_ALIAS
    for name, other in related.items():
        state.fields_cache[name] = other
    return instance


def _action(pk, kind, taken_at):
    if pk is None:
        return None
    return _instance(EnforcementAction, {"id": pk, "kind": kind, "taken_at": taken_at})


def _grant(row):
    conditions = row.pop("conditions")
    suspension = _action(row["suspended_by_id"], row.pop("suspension_kind"), row.pop("suspension_taken_at"))
    revocation = _action(row.pop("revocation_id"), row.pop("revocation_kind"), row.pop("revocation_taken_at"))
    grant = _instance(Grant, row, **({"suspended_by": suspension} if suspension is not None else {}))
    listed = [
        _instance(Condition, {k: c[k] for k in ("id", "text", "kind")}, agency=Agency(code=c["agency_code"]))
        for c in conditions  # of the agency, only its code is shown
    ]
    grant._prefetched_objects_cache = {"conditions": listed}  # what prefetch_related leaves
    return grant, revocation


def _parameters(request):
    """``(model, customer)`` when the query is exactly the two plain values the view accepts
    (read as Django's ``QueryDict`` reads it, without building one)."""
    query = request.META.get("QUERY_STRING", "")
    if query.count("&") != 1:
        return None
    pairs = parse_qsl(query, keep_blank_values=True, encoding="utf-8")
    given = dict(pairs)
    if len(pairs) != 2 or given.keys() != PARAMETERS:
        return None
    values = []
    for name in ("model", "customer"):
        value = given[name].strip()
        if not value or len(value) > MAX_LENGTH or "\x00" in value:
            return None
        values.append(value)
    return values


def _accepts_json(request):
    accept = request.META.get("HTTP_ACCEPT", "*/*")
    if "indent" in accept:  # DRF's renderer indents for ``application/json; indent=4``
        return False
    return any(part.split(";")[0].strip() in JSON_TYPES for part in accept.split(","))


def _secret(request):
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    return parts[1]


def answer(request):
    """The response for a plain check, or ``None`` for the DRF view to answer."""
    db = connections[DEFAULT_DB_ALIAS]  # once: each use of the ``connection`` proxy looks it up
    if request.method != "GET" or db.vendor != "postgresql" or not _accepts_json(request):
        return None
    parameters = _parameters(request)
    digest = token_digest(_secret(request) or "")
    if parameters is None or digest is None:
        return None
    model_identifier, customer_identifier = parameters
    found = entitlement_cache.lookup(entitlement_cache.key(digest, model_identifier, customer_identifier))
    if found.body is not None:
        return _cached(request, found)
    model_id = as_int(model_identifier)
    model_name = model_identifier.lower() if model_id is None else None
    head = version = None
    if model_name and " " in model_name:
        head, version = model_name.rsplit(" ", 1)
    with db.cursor() as cursor:
        row = _execute(
            db,
            cursor,
            [
                digest,
                model_id,
                model_name,
                head,
                version,
                as_int(customer_identifier),
                customer_identifier,
                Grant.Status.REVOKED,
                EnforcementAction.Kind.REVOKE_GRANT,
            ],
        )
    token_row, model_rows, customer_rows, grant_rows = (
        json.loads(value) if isinstance(value, str) else value for value in row
    )
    if token_row is None:
        return None
    now = timezone.now()
    user = _instance(
        User,
        {
            "id": token_row.pop("created_by_id"),
            "is_active": token_row.pop("is_active"),
            "role": token_row.pop("role"),
            "organisation_id": token_row.pop("user_org"),
        },
    )
    vendor = _instance(Vendor, {"id": token_row["vendor_id"], "organisation_id": token_row.pop("vendor_org")})
    token = _instance(ApiToken, {**token_row, "created_by_id": user.pk}, created_by=user, vendor=vendor)
    if not token_acts(token, now) or not _counted(request, token):
        return None
    frontier_model = pick_models(
        {model_identifier}, [_instance(FrontierModel, row) for row in model_rows or ()]
    )[model_identifier]
    partner_customer = pick_customers(
        {customer_identifier}, [_instance(PartnerCustomer, row) for row in customer_rows or ()]
    )[customer_identifier]
    if frontier_model is None or partner_customer is None:
        return None
    note_use(token, now)
    today = _day(now)
    grants, revocations = [], {}
    for row in grant_rows or ():
        if (row["frontier_model_id"], row["partner_customer_id"]) != (frontier_model.pk, partner_customer.pk):
            continue
        grant, revocation = _grant(row)
        grants.append(grant)
        if revocation is not None:
            revocations[grant.pk] = revocation
    result = decide(frontier_model, partner_customer, grants, today, revocations)
    body = render(entitlement_data(result))
    entitlement_cache.store(found, token, body, now)
    return _response(body)


def render(data):
    """The JSON body DRF's renderer makes of ``data``."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def _counted(request, token):
    """Count the call in the token's rate window; ``False`` when it is over the limit."""
    throttle = TokenRateThrottle()
    if throttle.rate is None:
        return True
    key = token_key(token.pk)
    allowed, remaining = hit(key, throttle.duration, throttle.num_requests)
    setattr(request, COUNTED, (key, allowed, remaining))  # the DRF view, if it answers, counted this
    return allowed


def _response(body):
    response = HttpResponse(body, content_type="application/json")
    response["Allow"] = ALLOW
    return response


def _cached(request, found):
    """The answer kept for this token and pair (``api.entitlement_cache``: nothing it depends on
    has changed since, the token included), counted in the token's rate window and its use noted
    as on a full check; ``None`` (the DRF view answers) when over the limit."""
    token = _tokens.get(found.token_id)
    if token is None:
        if len(_tokens) > RECENT_TOKENS:
            _tokens.clear()
        token = _tokens[found.token_id] = _instance(
            ApiToken, {"id": found.token_id, "last_used_at": found.last_used_at}
        )
    if not _counted(request, token):
        return None
    note_use(token, timezone.now())
    return _response(found.body)
