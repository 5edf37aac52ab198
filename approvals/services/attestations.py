"""A suspension's follow-through: the vendor attests, customer by customer and within the deadline
the lead set, that access to the model was actually cut off.

``ask_cutoff_attestations`` is called by ``suspend_model`` (one row per grant it took);
``attest_cutoff`` is the vendor's verb; ``send_attestation_reminders`` mails overdue ones daily.
"""

from datetime import datetime, time

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from approvals import policies
from approvals.models import CutoffAttestation, EnforcementAction
from approvals.services._common import BULK_BATCH, _clean_text, _person, _plural, _why, service
from approvals.services._notify import _lead_approvers, _notify_people, admin_action_link
from portal.audit.bulk import copy_to_history, int_array
from portal.errors import PortalError

MAX_ATTESTATION_HOURS = 720  # 30 days


def _when(moment):
    return f"{timezone.localtime(moment):%B %-d, %Y at %H:%M}"


def ask_cutoff_attestations(action, taken, *, actor, now):
    """One waiting attestation per grant ``action`` suspended (``taken``: ``[(grant pk, customer pk)]``).

    Set-based, as the suspension that calls it: the rows in one ``INSERT … SELECT`` over the two
    id arrays, their history in one more (``portal.audit.bulk.copy_to_history``). Returns their ids.
    """
    if not taken:
        return []
    if connection.vendor != "postgresql":  # the embedded default (SQLite): the ORM's bulk insert
        rows = CutoffAttestation.objects.bulk_create(
            CutoffAttestation(suspension=action, grant_id=grant, partner_customer_id=customer)
            for grant, customer in sorted(taken)
        )
        ids = [row.pk for row in rows]
    else:
        ids = _insert_from_arrays(action, taken)
    reason = _why(
        f"Asked with suspension #{action.pk}: the vendor attests the cut-off by {_when(action.attest_by)}."
    )
    copy_to_history(CutoffAttestation, ids, history_type="+", actor=actor, reason=reason, when=now)
    return ids


def _insert_from_arrays(action, taken):
    """PostgreSQL: the attestations in one ``INSERT … SELECT`` over ``unnest`` of the id arrays."""
    template = CutoffAttestation(suspension=action)
    fields = [f for f in CutoffAttestation._meta.concrete_fields if not f.primary_key]
    varying = {"grant_id": "t.grant_id", "partner_customer_id": "t.customer_id"}
    quote = connection.ops.quote_name
    values, params = [], []
    for field in fields:
        if field.attname in varying:
            values.append(varying[field.attname])
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.pre_save(template, add=True), connection))
    table = quote(CutoffAttestation._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608 - the model's own names
            f"SELECT {', '.join(values)} FROM unnest(%s::bigint[], %s::bigint[]) AS t(grant_id, customer_id) "
            f"ORDER BY t.grant_id RETURNING {quote(CutoffAttestation._meta.pk.column)}",
            [*params, int_array(g for g, _ in taken), int_array(c for _, c in taken)],
        )
        return [row[0] for row in cursor.fetchall()]


@service
def attest_cutoff(*, suspension, actor, attestations, statement):
    """The vendor attests that access was cut off for the customers of ``attestations`` (ids of the
    suspension's waiting attestations, as its page showed them). Attested rows are final; an id no
    longer waiting (a colleague attested it meanwhile) refuses the whole form, naming it."""
    suspension = (
        EnforcementAction.objects.select_for_update(of=("self",), no_key=True)
        .select_related("vendor", "frontier_model")
        .get(pk=suspension.pk)
    )
    policies.require_attest_cutoff(actor, suspension)
    statement = _clean_text(statement)
    if not statement:
        raise PortalError(
            "Say how access was cut off (for example: API keys revoked at 14:05).", field="statement"
        )
    chosen = {int(pk) for pk in attestations}
    if not chosen:
        raise PortalError("Tick the customers whose access you have cut off.", field="attestations")
    rows = list(
        CutoffAttestation.objects.select_for_update(of=("self",), no_key=True)
        .filter(suspension=suspension, pk__in=chosen)
        .select_related("partner_customer", "attested_by")
        .order_by("pk")
    )
    done = [r for r in rows if r.is_attested]
    if done:
        names = "; ".join(
            f"{r.partner_customer} by {_person(r.attested_by)} on {_when(r.attested_at)}" for r in done[:10]
        )
        raise PortalError(f"Nothing was recorded: already attested — {names}. Reload the page and try again.")
    if len(rows) != len(chosen):
        raise PortalError("Nothing was recorded: some customers ticked are not part of this suspension.")
    now = timezone.now()
    for row in rows:
        row.attested_by, row.attested_at, row.statement = actor, now, statement
    late = suspension.attest_by is not None and now > suspension.attest_by
    bulk_update_with_history(
        rows,
        CutoffAttestation,
        ["attested_by", "attested_at", "statement"],
        batch_size=BULK_BATCH,
        default_user=actor,
        default_change_reason=_why(
            f"Cut-off attested by {_person(actor)}{' (late)' if late else ''}: {statement}"
        ),
        default_date=now,
    )
    waiting = suspension.attestations.filter(attested_at__isnull=True).count()
    _notify_people(
        _lead_approvers(),
        event="cutoff_attested",
        subject=f"{suspension.vendor} attested the cut-off of {_plural(len(rows), 'customer')} "
        f"({suspension.frontier_model})",
        key=f"{suspension.pk}:{rows[0].pk}",
        link=admin_action_link(suspension),
        label=str(suspension.frontier_model),
        context={
            "vendor": str(suspension.vendor),
            "model": str(suspension.frontier_model),
            "customers": [str(r.partner_customer) for r in rows],
            "statement": statement,
            "waiting": waiting,
            "late": late,
        },
    )
    return rows


def send_attestation_reminders(*, today=None):
    """Daily: suspensions in force whose attestations are overdue — the vendor's team and the lead
    agency's approvers are mailed once a day. Returns the number of messages written."""
    from approvals.selectors.people import vendor_compliance_team

    now = timezone.now()
    if today is not None and today != timezone.localdate(now):  # a run for another day (tests, catch-up)
        now = timezone.make_aware(datetime.combine(today, time(12)))
    today = timezone.localdate(now)
    overdue = (
        EnforcementAction.objects.filter(
            kind=EnforcementAction.Kind.SUSPEND_MODEL,
            status=EnforcementAction.Status.IN_FORCE,
            attest_by__lt=now,
            attestations__attested_at__isnull=True,
        )
        .distinct()
        .select_related("vendor", "frontier_model")
    )
    sent = 0
    lead = None
    for suspension in overdue:
        waiting = list(
            suspension.attestations.filter(attested_at__isnull=True)
            .select_related("partner_customer")
            .order_by("partner_customer__legal_name")[:20]
        )
        count = suspension.attestations.filter(attested_at__isnull=True).count()
        context = {
            "vendor": str(suspension.vendor),
            "model": str(suspension.frontier_model),
            "attest_by": _when(suspension.attest_by),
            "count": count,
            "customers": [str(r.partner_customer) for r in waiting],
            "more": max(0, count - len(waiting)),
        }
        subject = (
            f"Overdue since {_when(suspension.attest_by)}: attest the cut-off of "
            f"{_plural(count, 'customer')} ({suspension.frontier_model})"
        )
        with transaction.atomic():
            sent += len(
                _notify_people(
                    vendor_compliance_team(suspension.vendor),
                    event="cutoff_attestation_due",
                    subject=subject,
                    key=f"{suspension.pk}:{today.isoformat()}",
                    link=reverse("enforcement:attest_cutoff", args=[suspension.pk]),
                    label=str(suspension.frontier_model),
                    context=context,
                )
            )
            lead = lead if lead is not None else _lead_approvers()
            sent += len(
                _notify_people(
                    lead,
                    event="cutoff_attestation_due",
                    subject=f"{suspension.vendor} has not attested the cut-off: {subject}",
                    key=f"{suspension.pk}:{today.isoformat()}:officials",
                    link=admin_action_link(suspension),
                    label=str(suspension.frontier_model),
                    context=context,
                )
            )
    return sent
