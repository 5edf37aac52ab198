"""Enforcement cascades run by background jobs (``portal.jobs``): pulling a model offline, lifting
the suspension, designating a vendor a supply-chain risk and rescinding the designation.

The confirmation page (``agency_admin.enforcement_pages``) checks at once what it can without
doing the work and asks for a job here; the job looks its object up again as the official who
gave the order may read it, and calls ``agency_admin.enforcement_orders.carry_out_<verb>``,
which calls the one service: the whole cascade in one transaction, every rule checked again under its locks. A
refusal fails the job with the service's words (or, when another official's order made it moot,
says who acted) and nothing is changed. The result links to the enforcement action taken.
Only the official who gave the order sees the job. Registered with ``portal.jobs`` when the app
is ready.
"""

from django.urls import reverse

from approvals import selectors
from portal import permissions
from portal.errors import PortalError
from portal.jobs.models import Job
from portal.jobs.services import JobResult, register_runner, start_job
from vendors.models import FrontierModel

# verb: (what it acts on, what the progress bar says while the service works)
VERBS = {
    "suspend": ("model", "Suspending the grants and holding the open requests"),
    "lift": ("model", "Restoring the grants and resuming the requests"),
    "designate": ("vendor", "Designating the vendor and referring its open requests"),
    "rescind": ("vendor", "Rescinding the designation"),
}


def start_enforcement_job(*, verb, obj, actor, title, data, total, back):
    """Ask for ``verb`` on ``obj`` (a frontier model or a vendor) in the background; ``back`` is the
    page the order was given from (the job's page links back to it)."""
    target, _ = VERBS[verb]
    return start_job(
        kind=Job.Kind.ENFORCEMENT,
        title=title,
        owner=actor,
        params={
            "verb": verb,
            "target": target,
            "object_id": obj.pk,
            "data": data,
            "back": back,
            "back_label": f"Back to {obj}" if target == "model" else "Back to the vendors",
            "result_label": "Open the enforcement action",
        },
        total=total,
    )


def active_enforcement_job(verb, obj):
    """Anyone's enforcement order on ``obj`` still waiting or running (one at a time per object)."""
    target, _ = VERBS[verb]
    return (
        Job.objects.filter(
            kind=Job.Kind.ENFORCEMENT,
            status__in=Job.ACTIVE,
            params__target=target,
            params__object_id=obj.pk,
        )
        .select_related("owner")
        .first()
    )


def _lookup(job):
    """The job's model or vendor, as its owner may read it now; ``PortalError`` otherwise."""
    target, object_id = job.params.get("target"), job.params.get("object_id")
    if target == "model":
        obj = (
            permissions.visible_to(job.owner, FrontierModel.objects.select_related("vendor"))
            .filter(pk=object_id)
            .first()
        )
    else:
        obj = selectors.vendors_under_oversight(job.owner).filter(pk=object_id).first()
    if obj is None or not job.owner.is_active:
        raise PortalError("Nothing was done: you may no longer read the record this order concerned.")
    return obj


def run_enforcement(job, progress):
    from approvals.agency_admin import enforcement_orders as orders
    from approvals.agency_admin import enforcement_pages as pages

    verb = job.params.get("verb")
    if verb not in VERBS:
        raise PortalError("The portal cannot carry out this order in the background.")
    obj = _lookup(job)
    progress(0, job.total or 1, VERBS[verb][1])
    carry_out = getattr(orders, f"carry_out_{verb}")
    try:
        action, summary = carry_out(job.owner, obj, job.params.get("data", {}), progress)
    except PortalError as error:
        # another official's order committed first: say who acted, as the page would have
        stale = next(p for p in pages.ENFORCEMENT_ACTIONS if p.name == verb).stale(None, _lookup(job))
        if stale is not None:
            raise PortalError(stale) from error
        raise
    return JobResult(
        summary=summary, link=reverse("admin:approvals_enforcementaction_change", args=[action.pk])
    )


register_runner(Job.Kind.ENFORCEMENT, run_enforcement)
