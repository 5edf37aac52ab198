"""Restricted by default: every address, walked as an outsider, shows nothing of another vendor.

The walk reads the URL conf (``get_resolver()``, the admin site's own pages and every registered
``ModelAdmin``'s pages included), fills each address's parameters with vendor B's records, and
opens it as vendor A's compliance admin and as an official of an agency none of B's requests is
referred to. A record address must answer 404 (or the sign-in redirect), or exactly what it
answers for a record that does not exist; a list must show none of B's rows. An address that is
neither walked nor allow-listed here, with a reason, fails ``test_every_route_is_walked``: a new
page joins the walk or states why it is public.
"""

from dataclasses import dataclass

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from approvals.models import (
    AccessRequest,
    Agency,
    EnforcementAction,
    Grant,
    IncidentReport,
    InformationRequest,
    PrereleaseReview,
    Referral,
    RoutingRule,
    StaffingChange,
)
from portal.accounts.models import Organisation, SignInEvent, User
from portal.admin_site import admin_site
from portal.notifications.models import Notification
from tests.route_walk_world import build_walk_world
from vendors.models import EvidenceDocument, FrontierModel, PartnerCustomer, Vendor
from vendors.onboarding.models import VendorApplication, VendorNameChange

# ---------------------------------------------------------------------------------------------
# What is walked, and why the rest is not

ALLOW_LIST = {
    "healthz": "public liveness probe: up or down, no records",
    "readiness": "public readiness probe: renders a template, answers up or down, no records",
    "healthz_details": "dependency timings for portal administrators and the metrics network only",
    "metrics": "Prometheus counts for the metrics network or token only; no records",
    "root": "redirects to the signed-in person's home page; shows nothing",
    "accounts:login": "the public sign-in page",
    "accounts:logout": "signs the walker out; shows nothing",
    "accounts:password_reset": "public: asks for an e-mail address",
    "accounts:password_reset_done": "public: a fixed message",
    "accounts:password_reset_confirm": "public: its parameters are a signed token, not a record",
    "accounts:password_reset_complete": "public: a fixed message",
    "accounts:mfa_verify": "the signed-in person's own second-factor prompt; no records",
    "accounts:mfa_enrol": "the signed-in person's own authenticator set-up; no records",
    "accounts:mfa_recovery_codes": "the signed-in person's own recovery codes, shown once; no records",
    "accounts:security": "the signed-in person's own second factors; no records",
    "accounts:remove_passkey": "POST: removes one of the person's own passkeys; another's answers 404",
    "accounts:new_recovery_codes": "POST: new recovery codes for the signed-in person; no records",
    "accounts:passkey_register_begin": "WebAuthn ceremony, the person's own; JSON, no records",
    "accounts:passkey_register_complete": "WebAuthn ceremony: saves the person's own passkey; no records",
    "accounts:passkey_authenticate_begin": "WebAuthn ceremony, the person's own; JSON, no records",
    "accounts:passkey_authenticate_complete": "WebAuthn ceremony: checks the person's own passkey",
    "vendors:apply": "the public 'apply as a vendor' form; shows no records",
    "vendors:apply_sent": "public: a fixed message",
    "admin:login": "hands over to the portal's one sign-in page (404 when already signed in)",
    "admin:logout": "signs the walker out; shows nothing",
    "admin/(?P<url>.*)$": "the admin's catch-all for unknown addresses: 404 or the sign-in redirect",
    "api:schema": "the public OpenAPI schema of the vendor API: no records",
    "api:docs": "the public documentation page of the vendor API (Swagger UI): no records",
    "api:not_found": "the API's catch-all for unknown addresses: a 404 problem, no records",
    "api:entitlement": "answers only for the caller's own models and customers; another vendor's ids "
    "answer 400 like unknown ones (api/tests/test_entitlements.py)",
}

# Pages without a record in their address: walked as lists. Values are the query strings to
# open them with ("" = the bare page).
PAGES = {
    "accounts:home": [""],
    "notifications:list": [""],
    "notifications:mark_all_read": [""],
    "notifications:preferences": [""],
    "jobs:list": [""],
    "approvals:list": ["", "?status=approved", "?q=FAR"],
    "approvals:new": [""],
    "enforcement:incident_list": [""],
    "enforcement:designation": [""],
    "enforcement:grant_list": [""],
    "vendors:dashboard": [""],
    "vendors:model_list": ["", "?phase=limited_preview"],
    "vendors:model_create": [""],
    "vendors:customer_list": ["", "?q=Quarry"],
    "vendors:customer_create": [""],
    "vendors:customer_search": ["", "?q=Quarry", "?q=Walk"],
    "vendors:customer_export": [""],
    "vendors:customer_import": [""],
    "vendors:customer_import_template": [""],
    "vendors:team": [""],
    "vendors:team_invite": [""],
    "vendors:profile": [""],
    "vendors:profile_edit": [""],
    "vendors:profile_notices": [""],
    "admin:index": [""],
    "admin:audit_export": ["", "?start=2000-01-01&end=2100-12-31&format=csv"],
    "admin:password_change": [""],
    "admin:password_change_done": [""],
    "admin:autocomplete": [""],
    "admin:jsi18n": [""],
    "admin:approvals_enforcementaction_models": ["", "?q=Walk"],
    "admin:approvals_enforcementaction_vendors": [""],
    "api_pages:tokens": [""],
    "api_pages:token_new": [""],
    "api_pages:webhooks": [""],
    "api_pages:webhook_new": [""],
    "api_pages:entitlement_lookup": ["", "?customer=1"],
    "api:entitlement_batch": [""],
    "api:model-list": ["", "?release_phase=limited_preview"],
    "api:customer-list": [""],
    "api:customer-bulk": [""],
    "api:access_request-list": ["", "?status=approved"],
    "api:decision-list": [""],
    "api:grant-list": [""],
    "api:incident-list": [""],
    "api:notification-list": [""],
}


def _ref(access_request):
    return access_request.tracking_number or str(access_request.pk)


def _on(*keys, **params):
    """The route takes one of ``keys`` (B's records); ``params`` maps parameter → how to fill it
    from the record (``pk`` by default; ``ref`` is a tracking number, or a draft's id)."""
    return [(key, params or {"pk": "pk"}) for key in keys]


_REQUESTS = ("request", "draft")

# Pages with a record in their address: route name → [(B's record, {parameter: attribute})].
OBJECT_ROUTES = {
    **{
        f"approvals:{name}": _on(*_REQUESTS, ref="ref")
        for name in ("detail", "edit", "attach", "submit", "withdraw", "discard", "respond", "letter")
    },
    "approvals:document": [
        ("request_document", {"ref": "access_request.ref", "pk": "pk"}),
        ("draft_document", {"ref": "access_request.ref", "pk": "pk"}),
    ],
    "approvals:remove_document": [
        ("request_document", {"ref": "access_request.ref", "pk": "pk"}),
        ("draft_document", {"ref": "access_request.ref", "pk": "pk"}),
    ],
    "approvals:answer": [("question", {"ref": "access_request.ref", "pk": "pk"})],
    "enforcement:review_submit": _on("m1", "m2"),
    "enforcement:incident_new": _on("m1", "m2"),
    "enforcement:incident_detail": _on("incident"),
    "enforcement:incident_complete": _on("incident"),
    "enforcement:grant_renew": _on("grant"),
    "enforcement:action_detail": _on("action"),
    "enforcement:attest_cutoff": _on("action"),  # B's suspension: its cut-off attestations
    **{
        name: [("letter", {"reference": "reference"}), ("notice", {"reference": "reference"})]
        for name in (
            "enforcement:letter",
            "enforcement:letter_pdf",
            "admin:approvals_accessrequest_letter_ref",
            "admin:approvals_accessrequest_letter_pdf",
        )
    },
    "vendors:model_detail": _on("m1", "m2"),
    "vendors:model_edit": _on("m1", "m2"),
    "vendors:model_withdraw": _on("m1", "m2"),
    "vendors:model_evidence_new": _on("m1", "m2"),
    "vendors:customer_detail": _on("c1"),
    "vendors:customer_edit": _on("c1"),
    "vendors:customer_evidence_new": _on("c1"),
    "vendors:customer_import_preview": _on("customer_import"),
    "vendors:evidence_download": _on("m1_evidence", "c1_evidence", "m2_evidence"),
    "vendors:evidence_replace": _on("m1_evidence", "c1_evidence", "m2_evidence"),
    "vendors:evidence_remove": _on("m1_evidence", "c1_evidence", "m2_evidence"),
    "vendors:team_member": _on("admin", "officer"),
    "notifications:mark_read": _on("notification"),
    "jobs:detail": _on("job"),
    "jobs:status": _on("job"),
    "jobs:download": _on("job"),
    **{
        f"admin:approvals_accessrequest_{name}": _on("request")
        for name in (
            "assign",
            "position",
            "sign",
            "ask",
            "note",
            "decide",
            "escalate",
            "resolve",
            "finalise",
            "letter",
            "confirm_facts",
            "assign_me",
            "return_incomplete",
            "return_without_action",
        )
    },
    "admin:approvals_accessrequest_document": [
        ("request_document", {"pk": "access_request_id", "document_pk": "pk"}),
    ],
    **{
        f"admin:approvals_enforcementaction_{name}": _on("m1", "m2")
        for name in ("model", "suspend", "lift", "clear_preview", "clear_ga", "decline", "finding")
    },
    "admin:approvals_enforcementaction_revoke": _on("grant"),
    "admin:approvals_enforcementaction_designate": _on("vendor"),
    "admin:approvals_enforcementaction_rescind": _on("vendor"),
    "admin:vendors_evidencedocument_download": _on("m1_evidence", "c1_evidence", "m2_evidence"),
    "admin:auth_user_password_change": [("admin", {"id": "pk"}), ("officer", {"id": "pk"})],
    "admin:accounts_user_reset_second_factor": _on("admin", "officer"),
    "admin:accounts_user_unlock_sign_in": _on("admin", "officer"),
    "admin:vendors_vendorapplication_approve": _on("application"),
    "admin:vendors_vendorapplication_reject": _on("application"),
    "admin:vendors_vendornamechange_approve": _on("name_change"),
    "admin:vendors_vendornamechange_reject": _on("name_change"),
    "admin:staffing_confirm": _on("staffing_change"),
    "admin:staffing_reject": _on("staffing_change"),
    "api_pages:token_revoke": _on("api_token"),
    "api_pages:webhook_off": _on("webhook_endpoint"),
    "api_pages:webhook_redeliver": _on("webhook_delivery"),
    "api:model-detail": _on("m1", "m2"),
    "api:model-evidence": _on("m1", "m2"),
    "api:customer-detail": _on("c1"),
    **{
        f"api:access_request-{name}": _on(*_REQUESTS, ref="ref")
        for name in ("detail", "documents", "submit", "withdraw", "respond")
    },
    "api:access_request-answer": [("question", {"ref": "access_request.ref", "question": "pk"})],
    "api:decision-detail": [("grant", {"pk": "decision_id"})],
    "api:grant-detail": _on("grant"),
    "api:incident-detail": _on("incident"),
}

# Every registered ModelAdmin: B's records of that model (its changelist, change, delete,
# history and version pages are walked), or why it has none.
ADMIN_MODELS = {
    Vendor: ["vendor"],
    FrontierModel: ["m1", "m2"],
    PartnerCustomer: ["c1"],
    EvidenceDocument: ["m1_evidence", "c1_evidence", "m2_evidence"],
    AccessRequest: ["request", "draft"],
    Referral: ["referral"],
    InformationRequest: ["question"],
    Grant: ["grant"],
    PrereleaseReview: ["review"],
    IncidentReport: ["incident"],
    EnforcementAction: ["action"],
    Organisation: ["organisation"],
    User: ["admin", "officer"],
    SignInEvent: ["sign_in"],
    Notification: ["notification"],
    StaffingChange: ["staffing_change"],
    VendorApplication: ["application"],
    VendorNameChange: ["name_change"],
}
REFERENCE_MODELS = {
    Agency: "reference data every official reads; no vendor's rows",
    RoutingRule: "reference data every official reads; no vendor's rows",
}

# What every agency reads by design, so the agency outsider is not walked against it.
AGENCY_SHARED = {
    "m2": "a model under pre-release review, with an incident and a suspension: every agency reads it",
    "m2_evidence": "the evidence of a model under pre-release review goes to every agency",
    "review": "pre-release reviews go to every agency",
    "incident": "incident reports go to every agency (DESIGN.md: beside the model's grants)",
    "action": "enforcement actions go to every agency",
    "notice": "the notice of an enforcement action goes with the action, to every agency",
    "organisation": "organisations are directory data every official reads",
    "vendor": "the vendor of a model every agency reads is named with it",
}
AGENCY_SHARED_STRINGS = {"vendor", "m2"}

# Routes walked with B's records that answer 404 even to the records' owners, and why.
# An action page opens only while policies.can_<verb> shows its button (agency_admin/actions.py):
# B's request and model sit in one state each, in which these buttons are not shown to anyone.
STATE_GATED = "an action page shown only in the states where its button is (policies.can_<verb>)"
NOBODY_REACHES = {
    "jobs:download": "the walk's job has not run, so it has no file yet; who may download a job's "
    "file is tested in vendors/tests/test_import_jobs.py",
    "admin:view_on_site": "no model has get_absolute_url, so the admin's shortcut answers 404 to all",
    "admin:approvals_accessrequest_ask": STATE_GATED,
    "admin:approvals_accessrequest_assign": STATE_GATED,
    "admin:approvals_accessrequest_assign_me": STATE_GATED,
    "admin:approvals_accessrequest_return_incomplete": STATE_GATED,
    "admin:approvals_accessrequest_return_without_action": STATE_GATED,
    "admin:approvals_accessrequest_decide": STATE_GATED,
    "admin:approvals_accessrequest_escalate": STATE_GATED,
    "admin:approvals_accessrequest_finalise": STATE_GATED,
    "admin:approvals_accessrequest_confirm_facts": STATE_GATED,
    "admin:approvals_accessrequest_position": STATE_GATED,
    "admin:approvals_accessrequest_resolve": STATE_GATED,
    "admin:approvals_accessrequest_sign": STATE_GATED,
    "admin:approvals_enforcementaction_clear_ga": STATE_GATED,
    "admin:approvals_enforcementaction_clear_preview": STATE_GATED,
    "admin:approvals_enforcementaction_decline": STATE_GATED,
    "admin:approvals_enforcementaction_rescind": STATE_GATED,
    "admin:accounts_user_reset_second_factor": "portal administrators only (the walk's owners are not)",
    "admin:accounts_user_unlock_sign_in": "portal administrators only, and only while the account is locked",
    "admin:vendors_vendorapplication_approve": "portal administrators only (the walk's owners are not)",
    "admin:vendors_vendorapplication_reject": "portal administrators only (the walk's owners are not)",
    "admin:vendors_vendornamechange_approve": "portal administrators only (the walk's owners are not)",
    "admin:vendors_vendornamechange_reject": "portal administrators only (the walk's owners are not)",
    "admin:staffing_confirm": "only another administrator of the agency (the walk's owners are not DOC's)",
    "admin:staffing_reject": "only an administrator of the agency (the walk's owners are not DOC's)",
}

ADMIN_SUFFIXES = ("changelist", "add", "change", "delete", "history", "simple_history")


# ---------------------------------------------------------------------------------------------
# Reading the URL conf


def _patterns(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _patterns(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            if entry.name:
                yield (f"{namespace}:{entry.name}" if namespace else entry.name), route
            else:
                yield route, route


def route_keys():
    """Every address in the URL conf: its name, or its pattern when it has none."""
    return dict(_patterns(get_resolver().url_patterns))


def _admin_prefix(model):
    return f"admin:{model._meta.app_label}_{model._meta.model_name}_"


def _admin_routes():
    """The pages the admin makes for each registered model, by route key."""
    routes = {}
    for model in admin_site._registry:
        for suffix in ADMIN_SUFFIXES:
            routes[_admin_prefix(model) + suffix] = (model, suffix)
        routes[f"admin/{model._meta.app_label}/{model._meta.model_name}/<path:object_id>/"] = (model, "open")
    return routes


# ---------------------------------------------------------------------------------------------
# Building the walk


@dataclass
class Stop:
    key: str  # the route
    url: str
    missing_url: str | None  # the same address for a record that does not exist
    record: str | None  # B's record in the address (None for a page)
    model: type | None = None  # the changelist's model, for a list


def _attr(obj, path):
    for part in path.split("."):
        obj = _ref(obj) if part == "ref" else getattr(obj, part)
    return obj


def _missing(value):
    text = str(value)
    if text.startswith("FAR-"):
        return "FAR-2099-999999"
    return "999999999" if text.isdigit() else text


def _record_stop(key, name, record, params, world):
    obj = world.b[record]
    kwargs = {param: str(_attr(obj, path)) for param, path in params.items()}
    missing = {param: _missing(value) for param, value in kwargs.items()}
    return Stop(key, reverse(name, kwargs=kwargs), reverse(name, kwargs=missing), record)


def _admin_stops(key, model, suffix, world):
    name = key
    if suffix in ("changelist", "add"):
        return [Stop(key, reverse(name), None, None, model if suffix == "changelist" else None)]
    stops = []
    for record in ADMIN_MODELS.get(model, []):
        obj = world.b[record]
        if suffix == "simple_history":
            version = obj.history.order_by("-history_id").first().history_id
            url = reverse(name, args=[obj.pk, version])
            missing = reverse(name, args=[999999999, version])
        elif suffix == "open":
            change = reverse(_admin_prefix(model) + "change", args=[obj.pk])
            url, missing = change.removesuffix("change/"), change.replace(f"/{obj.pk}/change/", "/999999999/")
        else:
            url, missing = reverse(name, args=[obj.pk]), reverse(name, args=[999999999])
        stops.append(Stop(key, url, missing, record))
    return stops


def build_walk(world):
    """Every stop of the walk, and the route keys it covers."""
    stops = []
    admin_routes = _admin_routes()
    for key, query_strings in PAGES.items():
        stops += [Stop(key, reverse(key) + query, None, None) for query in query_strings]
    for key, entries in OBJECT_ROUTES.items():
        stops += [_record_stop(key, key, record, params, world) for record, params in entries]
    for key, (model, suffix) in admin_routes.items():
        if key in route_keys():
            stops += _admin_stops(key, model, suffix, world)
    for app_label in {model._meta.app_label for model in admin_site._registry}:
        stops.append(Stop("admin:app_list", reverse("admin:app_list", args=[app_label]), None, None))
    for record, obj in world.b.items():
        content_type = ContentType.objects.get_for_model(obj)
        stops.append(
            Stop(
                "admin:view_on_site",
                reverse("admin:view_on_site", args=[content_type.pk, obj.pk]),
                reverse("admin:view_on_site", args=[content_type.pk, 999999999]),
                record,
            )
        )
    return stops


# ---------------------------------------------------------------------------------------------
# Judging the answers


def _body(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def _is_sign_in_redirect(response):
    location = response.get("Location", "")
    return response.status_code == 302 and (
        location.startswith(reverse("admin:login")) or location.startswith(reverse("accounts:login"))
    )


def _open(client, method, url):
    """Open ``url`` inside a savepoint that is rolled back: a leaking POST changes nothing."""
    with transaction.atomic():
        try:
            response = getattr(client, method)(url)
            body = _body(response)
        except Exception as error:  # noqa: BLE001 (a crash is a finding too: the walk goes on)
            response, body = None, f"{type(error).__name__}: {error}"
        transaction.set_rollback(True)
    return response, body


def _check_record(client, stop, method):
    response, body = _open(client, method, stop.url)
    if response is None:
        return f"{method.upper()} {stop.url} raised {body}"
    if response.status_code == 404 or _is_sign_in_redirect(response):
        return None
    missing, _ = _open(client, method, stop.missing_url)
    # A redirect that only echoes the address (the admin's ``<id>/`` → ``<id>/change/``) says
    # nothing either: compare it with the record's address put back in.
    location = response.get("Location", "").replace(stop.url, stop.missing_url)
    same = (
        missing is not None
        and missing.status_code == response.status_code
        and missing.get("Location", "") == location
    )
    if same and response.status_code in (302, 403, 405):
        return None  # answered exactly as for a record that does not exist: nothing learnt
    return (
        f"{method.upper()} {stop.url} answered {response.status_code} {response.get('Location', '')} "
        f"(for a missing record: {missing.status_code if missing else 'error'})"
    )


def _check_page(client, stop, strings, hidden_pks):
    with transaction.atomic():
        try:
            response = client.get(stop.url)
            body = _body(response)
        except Exception as error:  # noqa: BLE001 (a crash is a finding too: the walk goes on)
            transaction.set_rollback(True)
            return f"GET {stop.url} raised {type(error).__name__}: {error}"
        problems = []
        if response.status_code not in (200, 302, 403, 404, 405):
            problems.append(f"GET {stop.url} answered {response.status_code}")
        if response.status_code == 200:
            shown = sorted(name for name, text in strings.items() if text in body)
            if shown:
                problems.append(f"GET {stop.url} shows B's {', '.join(shown)}")
            changelist = (getattr(response, "context_data", None) or {}).get("cl")
            if changelist is not None:
                pks = hidden_pks.get(changelist.model, set())
                rows = changelist.queryset.filter(pk__in=pks).count() if pks else 0
                if rows:
                    problems.append(f"GET {stop.url} lists {rows} of B's rows")
        transaction.set_rollback(True)
    return "; ".join(problems) or None


def _outsider(world, who):
    if who == "vendor":
        return world.vendor_outsider, set(), set(world.strings)
    return world.agency_outsider, set(AGENCY_SHARED), set(world.strings) - AGENCY_SHARED_STRINGS


# ---------------------------------------------------------------------------------------------
# Tests


@pytest.fixture(scope="module")
def walk_world(django_db_setup, django_db_blocker):
    """B's records, built once for the module inside a transaction that is rolled back."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_walk_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def test_every_route_is_walked_or_allow_listed():
    walked = set(PAGES) | set(OBJECT_ROUTES) | set(_admin_routes()) | {"admin:app_list", "admin:view_on_site"}
    keys = route_keys()
    unknown = sorted(f"{key}  ({keys[key]})" for key in keys if key not in walked and key not in ALLOW_LIST)
    assert not unknown, (
        "These addresses are neither walked nor allow-listed in tests/test_route_walk.py. Add each "
        "to PAGES or OBJECT_ROUTES (with B's record to open it with), or to ALLOW_LIST with the reason "
        "it shows no vendor's records:\n  " + "\n  ".join(unknown)
    )
    stale = sorted((set(PAGES) | set(OBJECT_ROUTES) | set(ALLOW_LIST)) - set(keys))
    assert not stale, f"These walk entries name no address any more: {stale}"


def test_every_admin_registration_is_walked():
    unknown = sorted(
        f"{model._meta.label}"
        for model in admin_site._registry
        if model not in ADMIN_MODELS and model not in REFERENCE_MODELS
    )
    assert not unknown, (
        "These models are registered in the admin but the walk has no record of theirs: add B's "
        f"record to the walk's world and to ADMIN_MODELS, or say why in REFERENCE_MODELS: {unknown}"
    )


@pytest.mark.parametrize("who", ["vendor", "agency"])
def test_an_outsider_reaches_none_of_b_s_records(client, walk_world, db, who):
    user, shared, string_names = _outsider(walk_world, who)
    client.force_login(user)
    strings = {name: walk_world.strings[name] for name in string_names}
    hidden_pks = {}
    for record, obj in walk_world.b.items():
        if record not in shared:
            hidden_pks.setdefault(type(obj), set()).add(obj.pk)

    problems, walked = [], 0
    for stop in build_walk(walk_world):
        if stop.record is None:
            problem = _check_page(client, stop, strings, hidden_pks)
            problems += [problem] if problem else []
            walked += 1
            continue
        if stop.record in shared:
            continue
        for method in ("get", "post"):
            problem = _check_record(client, stop, method)
            problems += [problem] if problem else []
            walked += 1
    assert walked > 300, walked
    assert not problems, f"{who} outsider ({user.email}) reached B's records:\n  " + "\n  ".join(problems)


def _reachable(client, stop):
    """Whether ``stop`` opens its record for the signed-in owner. A crash counts as reached (the
    address got past the permission check to the record); crashes are reported by the pages' own
    tests, not here."""
    response, _ = _open(client, "get", stop.url)
    return response is None or (response.status_code != 404 and not _is_sign_in_redirect(response))


def test_the_walk_opens_real_records(client, walk_world, db):
    """The walk proves something only if its addresses open B's records for someone who may see
    them: each walked route answers B's admin (vendor pages), DOC's reviewer or approver or the
    auditor (admin pages) with something other than 404 for at least one of its records."""
    owners = walk_world.owners
    routes = {}
    for stop in build_walk(walk_world):
        if stop.record is not None:
            routes.setdefault(stop.key, []).append(stop)
    unreachable = set(routes)
    for owner, prefix in [
        ("vendor", "/vendor/"),
        ("vendor", "/notifications/"),
        ("vendor", "/jobs/"),
        ("vendor", "/api/"),
        ("auditor", "/admin/"),
        ("approver", "/admin/"),
        ("reviewer", "/admin/"),
    ]:
        client.force_login(owners[owner])
        for key in sorted(unreachable):
            stops = [stop for stop in routes[key] if stop.url.startswith(prefix)]
            if any(_reachable(client, stop) for stop in stops):
                unreachable.discard(key)
    unreachable -= set(NOBODY_REACHES)
    assert not unreachable, f"No owner reaches these routes with B's records: {sorted(unreachable)}"


def test_owners_see_the_strings_the_walk_looks_for(client, walk_world, db):
    """The strings outsiders must not see are on the owners' pages (so their absence means
    something)."""
    client.force_login(walk_world.owners["vendor"])
    pages = {
        "/vendor/models/": ["m1", "m2"],
        "/vendor/customers/": ["c1"],
        "/vendor/requests/": ["request"],
        f"/vendor/models/{walk_world.m1.pk}/": ["m1_evidence"],
        f"/vendor/customers/{walk_world.c1.pk}/": ["c1_evidence"],
        "/vendor/team/": ["admin", "officer"],
        "/vendor/profile/": ["vendor"],
        f"/vendor/requests/{walk_world.draft.pk}/": ["draft"],
        f"/vendor/requests/{walk_world.request.tracking_number}/": ["question"],
        f"/vendor/customers/import/{walk_world.customer_import.pk}/": ["customer_import"],
        "/vendor/api/tokens/": ["api_token"],
        "/vendor/api/webhooks/": ["webhook_endpoint"],
        f"/jobs/{walk_world.job.pk}/": ["job"],
    }
    for url, names in pages.items():
        body = _body(client.get(url))
        for name in names:
            assert walk_world.strings[name] in body, (url, name)
    assert set(walk_world.strings) == {name for names in pages.values() for name in names}


def test_a_record_out_of_reach_is_404_on_the_stock_admin_pages(client, walk_world, db):
    """Not Django's "does not exist" redirect to the index, and the same as for no record at all."""
    client.force_login(walk_world.agency_outsider)
    customer = walk_world.c1.pk
    for url in (
        f"/admin/vendors/partnercustomer/{customer}/change/",
        f"/admin/vendors/partnercustomer/{customer}/history/",
        "/admin/vendors/partnercustomer/999999999/change/",
        f"/admin/accounts/signinevent/{walk_world.sign_in.pk}/history/",
        "/admin/accounts/signinevent/999999999/history/",
    ):
        assert client.get(url).status_code == 404, url


DRAFT_RECORDS = {"draft", "draft_document"}


def test_drafts_are_private_to_the_vendor_s_team_on_every_route(client, walk_world, db):
    """Issue 13: the auditor, who reads everything else, opens none of B's draft's addresses (nor
    its documents'), on the vendor side or in the admin; B's own team does."""
    stops = [stop for stop in build_walk(walk_world) if stop.record in DRAFT_RECORDS]
    assert len(stops) >= 10, len(stops)
    client.force_login(walk_world.owners["auditor"])
    problems = [f"GET {stop.url}" for stop in stops if _check_record(client, stop, "get") is not None]
    admin_draft = f"/admin/approvals/accessrequest/{walk_world.draft.pk}/change/"
    response, _ = _open(client, "get", admin_draft)
    if response is None or response.status_code != 404:
        problems.append(f"GET {admin_draft}")
    assert not problems, "The auditor reached B's draft:\n  " + "\n  ".join(problems)
    client.force_login(walk_world.owners["vendor"])
    assert client.get(f"/vendor/requests/{walk_world.draft.pk}/").status_code == 200
