"""Builders shared by the enforcement tests: grants in bulk, suspensions, a basis."""

import re
from datetime import timedelta

from django.utils import timezone

from approvals import services
from approvals.models import AccessRequest, Decision, Grant, RequestCount
from approvals.tests.factories import all_concur, new_customer, submitted
from portal import permissions
from portal.accounts.services import system_user
from vendors.models import PartnerCustomer
from vendors.services import share_with_group

BASIS = {
    "legal_basis": "Executive Order 14999, section 4(b): mandate to pull a model offline.",
    "findings": "Model weights were exfiltrated from the vendor's training cluster.",
}


def approved(world, *, partner_customer=None, frontier_model=None):
    """A request taken through every agency's concurrence to approval: returns its grant."""
    customer = partner_customer or new_customer(world)
    access_request = submitted(world, partner_customer=customer, frontier_model=frontier_model)
    access_request = all_concur(world, access_request)
    services.record_decision(access_request=access_request, actor=world["doc_approver"])
    return Grant.objects.get(access_request=access_request)


def bulk_grants(world, count, *, frontier_model=None, valid_days=365, share=False):
    """``count`` active grants for the model, written in bulk (customers, requests, decisions,
    grants and their history): setting up ten thousand through the services would take minutes."""
    frontier_model = frontier_model or world.frontier_model
    vendor = frontier_model.vendor
    actor = system_user()
    share_with_group(frontier_model, world.agency("DOC").officials_group)  # as a referral would
    now = timezone.now()
    today = timezone.localdate(now)
    start = PartnerCustomer.objects.count()
    customers = PartnerCustomer.objects.bulk_create(
        [
            PartnerCustomer(
                vendor=vendor,
                legal_name=f"Bulk Customer {start + i:06d}",
                normalised_name=f"bulk customer {start + i:06d}",
                country="US",
                sector="other",
                intended_use="Security operations.",
                security_contact_name="Lead",
                security_contact_email="lead@bulk.example",
                attestation=True,
            )
            for i in range(count)
        ],
        batch_size=1000,
    )
    first_number = AccessRequest.objects.count() + 500_000
    requests = AccessRequest.objects.bulk_create(
        [
            AccessRequest(
                vendor=vendor,
                frontier_model=frontier_model,
                partner_customer=customer,
                tracking_number=f"FAR-{today.year}-{first_number + i:06d}",
                status=AccessRequest.Status.APPROVED,
                use_case="Bulk",
                scope="Bulk",
                requested_duration_days=365,
                created_by=actor,
                submitted_at=now,
                decided_at=now,
            )
            for i, customer in enumerate(customers)
        ],
        batch_size=1000,
    )
    RequestCount.recount(vendor.pk)  # rows written in bulk skip the count kept by save
    decisions = Decision.objects.bulk_create(
        [
            Decision(
                access_request=r,
                outcome=Decision.Outcome.APPROVED,
                decided_by=world["doc_approver"],
                decided_at=now,
                snapshot={},
                snapshot_sha256="0" * 64,
                letter_text="Approved.",
            )
            for r in requests
        ],
        batch_size=1000,
    )
    grants = [
        Grant(
            decision=d,
            access_request=d.access_request,
            vendor=vendor,
            frontier_model=frontier_model,
            partner_customer=d.access_request.partner_customer,
            valid_from=today,
            valid_to=today + timedelta(days=valid_days),
            status=Grant.Status.ACTIVE,
            status_changed_at=now,
        )
        for d in decisions
    ]
    from simple_history.utils import bulk_create_with_history

    grants = bulk_create_with_history(
        grants, Grant, batch_size=1000, default_user=actor, default_change_reason="Created in bulk by a test."
    )
    if share:  # as the decision shares them: the vendor's members and the lead agency read them
        grants = list(Grant.objects.filter(pk__in=[g.pk for g in grants]))
        permissions.grant_many("view", vendor.members_group, grants)
        permissions.grant_many("view", world.agency("DOC").officials_group, grants)
        permissions.grant_many("view", world.agency("DOC").officials_group, requests)
        permissions.grant_many("view", vendor.members_group, requests)
    return grants


def suspend(world, frontier_model=None, **kwargs):
    """The suspension and its follow-through, which runs when the suspension's transaction commits
    (a test's transaction never does; ``test_suspension_follow_through`` tests that it is called)."""
    action = services.suspend_model(
        frontier_model=frontier_model or world.frontier_model, actor=world["doc_approver"], **BASIS, **kwargs
    )
    services.follow_through_suspension(action.pk)
    action.refresh_from_db()
    return action


def lift(world, frontier_model=None, **kwargs):
    return services.lift_suspension(
        frontier_model=frontier_model or world.frontier_model, actor=world["doc_approver"], **BASIS, **kwargs
    )


def order(client, url, data, capture, **kwargs):
    """Give an enforcement order through its confirmation page and let its background job run
    (``capture`` is pytest-django's ``django_capture_on_commit_callbacks``: the job is queued when
    the request's transaction commits). Returns the response and the job it asked for, if any."""
    from portal.jobs.models import Job

    before = set(Job.objects.values_list("pk", flat=True))
    with capture(execute=True):
        response = client.post(url, data, **kwargs)
    job = Job.objects.exclude(pk__in=before).filter(kind=Job.Kind.ENFORCEMENT).first()
    return response, job


BASE = "/admin/approvals/enforcementaction/"


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def shown_records(page):
    """The ids of the records a confirmation page showed, as its form sends them back."""
    return re.search(r'name="shown_records" value="([^"]+)"', page).group(1)


def suspend_url(world):
    return f"{BASE}models/{world.frontier_model.pk}/suspend/"
