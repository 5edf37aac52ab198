"""Amendments: a material fact changed while the agencies hold the record.

The registry (``vendors``) saves the change and sends ``vendors.amendments.material_facts_changed``
in the same transaction; ``record_amendment`` answers it. When a request concerning the record is
under review or a grant for it is active, the change is an amendment:

- it needs the vendor's reason (otherwise the whole change is refused and nothing is saved);
- it is kept as an ``Amendment`` (what changed, from what to what, who, when, why) beside the
  record's new history version, and shown on every case it concerns;
- every open request concerning the record is routed again: an agency the rules now call on gets
  its referral, its clock and its mail, as at submission (its clock starts at the amendment; the
  clocks already running go on: no rule restarts them, and no referral is taken away);
- every agency holding a referral on those requests, or on the request of an active grant for the
  record, is told, and each such grant is marked "facts changed since approval" for the lead
  agency to confirm (``confirm_grant_facts``) or act on (revoke it).

A vendor's legal name, changed when a portal administrator approves (``vendors.onboarding``), is
amended the same way: every request and grant of the vendor holds it, and the amendment names
neither a customer nor a model.

``amend_partner_customer`` and ``amend_frontier_model`` are the verbs for callers that mean to
amend (the API): they call the registry's update service, which runs all of the above.
"""

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from approvals import policies
from approvals.models import AccessRequest, Amendment, Grant, GrantFactsChange
from approvals.selectors.routing import route
from approvals.services._common import _clean_text, _person, _save, _save_request, _why, service
from approvals.services._notify import _case_link, _lead_approvers, _notify_people, _referred_officials_of
from approvals.services.routing import _add_referral
from portal.audit.versions import version_of
from portal.errors import PortalError
from vendors import amendments as registry
from vendors.models import PartnerCustomer, Vendor

HELD_STATUSES = AccessRequest.OPEN_STATUSES


def _of(record):
    """The lookup of what concerns ``record``: a customer's or a model's requests and grants, or
    every request and grant of a vendor (its legal name)."""
    if isinstance(record, Vendor):
        return {"vendor": record}
    return {"partner_customer": record} if isinstance(record, PartnerCustomer) else {"frontier_model": record}


def _vendor_of(record):
    return record if isinstance(record, Vendor) else record.vendor


def held_requests(record, *, lock=False):
    """The requests concerning ``record`` that are under review (open), oldest first."""
    queryset = AccessRequest.objects.filter(status__in=HELD_STATUSES, **_of(record)).order_by("pk")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    return list(queryset.select_related("vendor", "frontier_model", "partner_customer"))


def active_grants(record):
    return list(
        Grant.objects.filter(status=Grant.Status.ACTIVE, **_of(record))
        .select_related("access_request", "partner_customer", "frontier_model")
        .order_by("pk")
    )


def holders_of(sender, record, lock=False, **kwargs):
    """``vendors.amendments.holders_requested``: what holds ``record``, as short phrases. With
    ``lock``, the open requests are locked first (requests before the record, as every service)."""
    requests = held_requests(record, lock=lock)
    phrases = [f"{r} ({r.get_status_display().lower()})" for r in requests]
    phrases += [f"the active grant of {g.access_request}" for g in active_grants(record)]
    return phrases


def _changes(record, changes):
    model = type(record)
    return [
        {
            "field": field,
            "label": registry.label_of(model, field),
            "old": registry.display_value(model, field, old),
            "new": registry.display_value(model, field, new),
        }
        for field, old, new in changes
    ]


def on_material_facts_changed(sender, record, actor, reason, changes, **kwargs):
    """``vendors.amendments.material_facts_changed``: record the amendment when the record is held."""
    record_amendment(record=record, actor=actor, reason=reason, changes=changes)


@service
def record_amendment(*, record, actor, reason, changes):
    """Record an amendment of ``record`` (already saved with ``changes``: ``[(field, old, new)]``)
    if a request under review or an active grant holds it; return it, or ``None`` when nothing
    holds the record (a plain edit)."""
    requests = held_requests(record, lock=True)
    grants = active_grants(record)
    if not requests and not grants:
        return None
    if not isinstance(record, Vendor):
        # (a vendor's legal name changes when a portal administrator approves what its
        # compliance admin asked for: ``actor`` is the one who asked, checked then)
        policies.require_vendor_actor(actor, vendor=record.vendor)
    reason = _clean_text(reason)
    listed = _changes(record, changes)
    fields = ", ".join(change["label"].lower() for change in listed)
    if not reason:
        held = _named([str(r) for r in requests] + [f"the grant of {g.access_request}" for g in grants])
        raise PortalError(
            f"Changing the {fields} of {record} is an amendment: {held} concerns it, and the agencies "
            "reviewing it will read your reason. Say why the facts changed. Nothing was saved.",
            field="reason",
        )
    now = timezone.now()
    amendment = _save(
        Amendment(
            vendor=_vendor_of(record),
            changes=listed,
            reason=reason,
            amended_by=actor,
            amended_at=now,
            record_version=version_of(record),
            held_by=[str(r) for r in requests] + [f"grant of {g.access_request}" for g in grants],
            **({} if isinstance(record, Vendor) else _of(record)),
        ),
        actor=actor,
        reason=f"Amendment of {record} by {_person(actor)}: {fields}. {reason}",
    )
    added = []
    for access_request in requests:
        added += _reroute(access_request, amendment=amendment, actor=actor, now=now, fields=fields)
    for grant in grants:
        _save(
            GrantFactsChange(grant=grant, amendment=amendment),
            actor=actor,
            reason=f"Facts changed since approval: {fields} of {record} amended.",
        )
    _tell_officials(amendment, record, fields, requests, grants)
    if added:
        amendment.added_referrals = added
        _save(amendment, actor=actor, reason="Referrals added by routing.", update_fields=["added_referrals"])
    return amendment


NAMED_AT_MOST = 20


def _named(names):
    """``names`` joined, at most ``NAMED_AT_MOST`` of them (the rest counted)."""
    rest = len(names) - NAMED_AT_MOST
    return ", ".join(names[:NAMED_AT_MOST]) + (f" and {rest} more" if rest > 0 else "")


def _tell_officials(amendment, record, fields, requests, grants):
    """One mail per official for the whole amendment, listing the cases of theirs it concerns: the
    requests under review they are referred on (after rerouting), and the grants in force of their
    agency's requests or, for the lead agency's approvers, every grant. A vendor's new legal name
    over three hundred grants is one mail to each official, not three hundred."""
    concerned = {}
    lead = _lead_approvers()
    cases = [(r, None) for r in requests] + [(g.access_request, g) for g in grants]
    referred = _referred_officials_of([access_request.pk for access_request, _ in cases])
    for access_request, grant in cases:
        people = [*referred[access_request.pk], *(lead if grant else [])]
        for person in {p.pk: p for p in people}.values():
            concerned.setdefault(person.pk, (person, []))[1].append((access_request, grant))
    for person, theirs in concerned.values():
        if len(theirs) == 1:
            ((access_request, grant),) = theirs
            subject = (
                f"Facts changed since approval: {record} ({fields}), grant of {access_request}"
                if grant
                else f"Amended: {record} ({fields}) in {access_request}"
            )
            link, label = _case_link(access_request), str(access_request)
        else:
            subject = f"Amended: {record} ({fields}), {len(theirs)} of your cases"
            link, label = reverse("admin:index"), str(record)
        listed = [
            f"{access_request}: "
            + ("approved; the grant's facts changed since approval" if grant else "under review")
            for access_request, grant in theirs
        ]
        _notify_people(
            [person],
            event="record_amended",
            subject=subject,
            key=f"amendment:{amendment.pk}",
            link=link,
            label=label,
            context={
                **_mail_context(amendment, record, grant=any(grant for _, grant in theirs)),
                "tracking_number": str(theirs[0][0]) if len(theirs) == 1 else "",
                "cases": listed[:NAMED_AT_MOST],
                "more_cases": max(len(listed) - NAMED_AT_MOST, 0),
            },
        )


def _reroute(access_request, *, amendment, actor, now, fields):
    """Refer the request to every agency the rules call on now and that it lacks; raise its
    version (a page opened before the amendment is stale). Returns ``[[tracking, code]]``."""
    referred = set(access_request.referrals.values_list("agency_id", flat=True))
    why = f"{amendment.record} amended ({fields})"
    added = []
    for agency, required, routing_reason in route(access_request):
        if agency.pk in referred:
            continue
        _add_referral(
            access_request,
            agency,
            required=required,
            routing_reason=routing_reason,
            actor=actor,
            now=now,
            why=why,
        )
        added.append([str(access_request), agency.code])
    _save_request(
        access_request,
        actor=actor,
        reason=_why(f"Amendment of {amendment.record} ({fields}): {amendment.reason}"),
        update_fields=[],
    )
    return added


def _mail_context(amendment, record, *, grant):
    return {
        "record": str(record),
        "kind": {PartnerCustomer: "partner customer", Vendor: "vendor"}.get(type(record), "model"),
        "changes": [
            f"{c['label']}: {c['old'] or '(empty)'} → {c['new'] or '(empty)'}" for c in amendment.changes
        ],
        "reason": amendment.reason,
        "amended_by": _person(amendment.amended_by),
        "grant": bool(grant),
    }


@service
def confirm_grant_facts(*, grant, actor, note=""):
    """The lead agency confirms an active grant whose facts changed since approval: the grant
    stands on the amended facts. (Acting on it instead is a revocation: ``revoke_grant``.)"""
    grant = Grant.objects.select_for_update(of=("self",)).select_related("access_request").get(pk=grant.pk)
    policies.require_confirm_grant_facts(actor, grant)
    note = _clean_text(note)
    if not note:
        raise PortalError("Say why the grant stands on the amended facts.", field="note")
    now = timezone.now()
    pending = list(
        GrantFactsChange.objects.select_for_update()
        .filter(grant=grant, status=GrantFactsChange.Status.PENDING)
        .order_by("pk")
    )
    for change in pending:
        change.status = GrantFactsChange.Status.CONFIRMED
        change.resolved_by = actor
        change.resolved_at = now
        change.resolution = note
        _save(
            change,
            actor=actor,
            reason=f"Grant confirmed on the amended facts by {_person(actor)}: {note}",
            update_fields=["status", "resolved_by", "resolved_at", "resolution"],
        )
    return pending


def amend_partner_customer(*, partner_customer, actor, reason, expected_version=None, **changes):
    """Change a customer's facts with a reason; returns ``(customer, amendment or None)``.

    The same path as the vendor's edit page (``vendors.services.update_partner_customer``)."""
    from vendors.services import update_partner_customer

    with transaction.atomic():
        customer = update_partner_customer(
            partner_customer=partner_customer,
            actor=actor,
            reason=reason,
            expected_version=expected_version,
            **changes,
        )
        return customer, _latest(Q(partner_customer=customer), actor)


def amend_frontier_model(*, frontier_model, actor, reason, expected_version=None, **changes):
    """Change a model's facts with a reason; returns ``(model, amendment or None)``."""
    from vendors.services import update_frontier_model

    with transaction.atomic():
        model = update_frontier_model(
            frontier_model=frontier_model,
            actor=actor,
            reason=reason,
            expected_version=expected_version,
            **changes,
        )
        return model, _latest(Q(frontier_model=model), actor)


def _latest(condition, actor):
    amendment = Amendment.objects.filter(condition, amended_by=actor).order_by("-pk").first()
    if amendment is None or amendment.record_version != version_of(amendment.record):
        return None
    return amendment


__all__ = [
    "amend_frontier_model",
    "amend_partner_customer",
    "confirm_grant_facts",
    "holders_of",
    "on_material_facts_changed",
    "record_amendment",
]
