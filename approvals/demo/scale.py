"""``seed_demo --scale N``: N more access requests on top of the demo world, built in bulk.

The ordinary demo world is seeded first (its logins, vendors, agencies and groups are what the
bulk rows hang on); then N requests of the demo vendors are written with ``INSERT … SELECT
generate_series`` on PostgreSQL, each with what the services would have left behind in
proportion: referrals to DOC, ONCD and OSTP (CISA for a critical-infrastructure customer,
STATE for a customer abroad), signed positions, decisions, grants, the object permissions
the services grant (vendor groups and the officials of every referred agency) and about ten
history rows per request. The newest fifth of the requests is open (drafts, submitted, in
review, waiting on the vendor) with clocks around today; the older ones are decided,
withdrawn or returned. One in ten requests is Basalt's (so the vendor request lists compare
10 % of each size); a fifth of Aurora's decided requests are for "Aurora Cirrus", a
limited-preview model with about 10,000 active grants and no open request at N = 100,000
(what ``scripts/bench`` suspends, against a bare UPDATE of its grants).

This is a load world for measurements, not a story: the rows are consistent (every state a
page reads exists), but written by SQL, not by calling the services one by one, which would
take hours at this size. Its history rows are written without their chain hashes (computing
SHA-256 per row in Python would cost more than the whole build): ``verify_audit`` names them as
unsealed, and ``portal.audit.chain.seal_unchained`` seals them if a scale world is ever kept.
Tracking numbers of these requests are ``FAR-2024-…`` (the year's
counter is raised past them), so they never collide with numbers the services draw.
"""

import time

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction

from approvals.demo.scale_sql import statements
from approvals.models import AccessRequest, Agency, Grant, Referral, TrackingCounter
from approvals.models.dashboard import recount_dashboard
from portal import permissions
from portal.accounts.models import User
from portal.accounts.services import system_user
from portal.audit.history import save_with_history
from vendors.choices import CRITICAL_INFRASTRUCTURE_SECTORS, Sector
from vendors.models import EvidenceDocument, FrontierModel, PartnerCustomer, Vendor

SCALE_YEAR = 2024
SCALE_MODEL = ("Aurora Cirrus", "1.0")
REASON = "Scale world created by seed_demo --scale."


def newest_cleared_grant():
    """The newest active grant of the scale world's busiest model: what the benchmark and the
    row-growth guard ask the entitlement check about."""
    from approvals.models import Grant

    name, version = SCALE_MODEL
    return (
        Grant.objects.filter(
            frontier_model__name=name, frontier_model__version=version, status=Grant.Status.ACTIVE
        )
        .order_by("-pk")
        .first()
    )


def seed_scale(n, *, log=print, year=SCALE_YEAR, skip_foreign_key_checks=True):
    """Add ``n`` requests in bulk (PostgreSQL only), numbered ``FAR-<year>-…``. Refuses to run
    twice for one year on one database (a test grows a world by calling it again for another)."""
    if connection.vendor != "postgresql":
        raise RuntimeError("seed_demo --scale needs PostgreSQL (it writes with INSERT … SELECT).")
    if AccessRequest.objects.filter(tracking_number__startswith=f"FAR-{year}-").exists():
        log("A scale world is already in this database; nothing added.")
        return
    started = time.monotonic()
    with transaction.atomic():
        world = {**_world(), "year": year}
        if skip_foreign_key_checks:
            _skip_foreign_key_checks(log)
        with connection.cursor() as cursor:
            for label, sql in statements(n, world):
                t0 = time.monotonic()
                cursor.execute(sql, world)
                log(f"  {label:<28} {cursor.rowcount:>9} rows  {time.monotonic() - t0:6.1f} s")
        TrackingCounter.objects.update_or_create(year=year, defaults={"last_number": n})
        t0 = time.monotonic()
        recount_dashboard()  # the agency dashboard's kept counts (approvals.models.dashboard)
        log(f"  {'dashboard tally':<28} {'':>9}       {time.monotonic() - t0:6.1f} s")
    with connection.cursor() as cursor:
        t0 = time.monotonic()
        cursor.execute("ANALYZE")
        log(f"  {'analyze':<28} {'':>9}       {time.monotonic() - t0:6.1f} s")
    log(f"Scale world of {n} requests built in {time.monotonic() - started:.0f} s.")


def _skip_foreign_key_checks(log):
    """Django's foreign keys are ``DEFERRABLE INITIALLY DEFERRED``: each of the millions of rows
    queues a check that runs at ``COMMIT`` (80 s of the 100,000-request build). The rows here are
    consistent by construction, so on a superuser connection (as on the development machines)
    the checks are skipped for this transaction only; elsewhere they run as usual, slower."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        log("  (foreign keys are checked at commit: not a superuser connection)")


def _perm(model, action):
    content_type = ContentType.objects.get_for_model(model)
    codename = permissions.codename(model, action).split(".", 1)[1]
    return Permission.objects.get(content_type=content_type, codename=codename).pk


def _cirrus(aurora, actor):
    """Aurora Cirrus, registered by Aurora's compliance admin and taken to limited preview (no cap)
    through the pre-release review services, as the demo world's models are (issue 19): its model
    card attached, submitted, findings by DOC and ONCD, cleared by DOC's approver."""
    from approvals.demo.releases import _review_and_clear
    from approvals.demo.requests import _travel
    from approvals.models import PrereleaseReview
    from vendors import services as vendor_services
    from vendors.demo import _document

    name, version = SCALE_MODEL
    spec = {
        "phase": FrontierModel.ReleasePhase.LIMITED_PREVIEW,
        "cap": None,
        "description": "Long-context model in wide limited preview (the scale world's busiest model).",
        "capability_summary": "Code review and log triage at enterprise scale.",
        "cyber_evaluation_summary": "Moderate uplift for log analysis; mitigations in place.",
    }
    model = FrontierModel.objects.filter(vendor=aurora, name=name, version=version).first()
    if model is None:
        with _travel(490):  # registered before its review (``_review_and_clear`` runs 480 to 460 days ago)
            model = vendor_services.register_frontier_model(
                vendor=aurora,
                name=name,
                version=version,
                training_compute_flop=2e26,
                description=spec["description"],
                capability_summary=spec["capability_summary"],
                cyber_evaluation_summary=spec["cyber_evaluation_summary"],
                actor=actor,
                reason=REASON,
            )
    if model.release_phase != FrontierModel.ReleasePhase.REGISTERED:
        return model
    if PrereleaseReview.objects.filter(frontier_model=model).exists():
        return model
    if not model.evidence_documents.exists():
        with _travel(485):
            vendor_services.attach_evidence(
                kind=EvidenceDocument.Kind.MODEL_CARD,
                title=f"{name} {version} model card",
                uploaded_file=_document(f"{name} {version} model card", "txt"),
                frontier_model=model,
                actor=actor,
                reason=REASON,
            )
    people = {u.email: u for u in User.objects.filter(email__in=_REVIEWERS)}
    _review_and_clear(
        model,
        spec,
        vendor_admin=actor,
        findings=[(people["reviewer@doc.example"], "DOC"), (people["approver@oncd.example"], "ONCD")],
        approver=people["approver@doc.example"],
    )
    return FrontierModel.objects.get(pk=model.pk)


_REVIEWERS = ("reviewer@doc.example", "approver@oncd.example", "approver@doc.example")


def _world():
    aurora = Vendor.objects.get(organisation__name="Aurora Labs")
    basalt = Vendor.objects.get(organisation__name="Basalt AI")
    system = system_user()
    aurora_admin = User.objects.get(email="compliance@aurora.example")
    basalt_admin = User.objects.get(email="compliance@basalt.example")
    agencies = {a.code: a for a in Agency.objects.all()}
    atlas = FrontierModel.objects.get(vendor=aurora, name="Aurora Atlas", version="2.0")
    pebble = FrontierModel.objects.filter(vendor=basalt, name="Basalt Pebble").first()
    cirrus = _cirrus(aurora, aurora_admin)
    if atlas.preview_customer_cap:  # thousands of customers hold grants for it here: no cap could hold
        atlas.preview_customer_cap = None
        save_with_history(
            atlas,
            actor=system,
            reason=f"{REASON} Its preview cap lifted.",
            update_fields=["preview_customer_cap"],
        )
    return {
        "aurora": aurora.pk,
        "basalt": basalt.pk,
        "aurora_admin": aurora_admin.pk,
        "basalt_admin": basalt_admin.pk,
        "system": system.pk,
        "approver": User.objects.get(email="approver@doc.example").pk,
        "atlas": atlas.pk,
        "cirrus": cirrus.pk,
        "pebble": pebble.pk,
        "aurora_members": aurora.members_group_id,
        "aurora_editors": aurora.editors_group_id,
        "basalt_members": basalt.members_group_id,
        "basalt_editors": basalt.editors_group_id,
        **{f"agency_{code.lower()}": a.pk for code, a in agencies.items()},
        **{f"group_{code.lower()}": a.officials_group_id for code, a in agencies.items()},
        "view_request": _perm(AccessRequest, "view"),
        "change_request": _perm(AccessRequest, "change"),
        "view_referral": _perm(Referral, "view"),
        "view_grant": _perm(Grant, "view"),
        "view_customer": _perm(PartnerCustomer, "view"),
        "view_model": _perm(FrontierModel, "view"),
        "change_customer": _perm(PartnerCustomer, "change"),
        "sectors": [value for value, _ in Sector.choices],
        "ci_sectors": [str(s) for s in CRITICAL_INFRASTRUCTURE_SECTORS],
        "year": SCALE_YEAR,
    }
