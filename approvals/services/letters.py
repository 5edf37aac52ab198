"""Issuing letters: rendered once, in the transaction of the act they announce, then kept.

The callers are the services that decide, announce an intent to deny and take enforcement
actions; each passes what the letter says. The HTML is rendered from
``approvals/letters/letter.html`` and the PDF made from exactly that HTML, so the page and the
PDF always say the same; both are stored with their hashes and never re-rendered (a change to
the template later changes no letter already issued). A server that makes no PDFs
(``LETTERS_PDF`` off, or no WeasyPrint libraries) stores the page alone, and the PDF is made
from that stored page when someone asks for it.
"""

import hashlib
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.utils import timezone

from approvals.models import EnforcementAction, Letter
from approvals.policies import agency_of
from approvals.services._common import _person, _save
from portal.errors import PortalError
from portal.pdf import WEASYPRINT_MISSING, html_to_pdf

logger = logging.getLogger(__name__)

LETTER_STYLESHEETS = ("approvals/letter.css",)
ENFORCEMENT_PREFIX = {
    EnforcementAction.Kind.DESIGNATE_VENDOR: "DSG",
    EnforcementAction.Kind.RESCIND_DESIGNATION: "DSG",
}


def signatory_title(actor, lead):
    """How the signing official's title is printed: role and agency."""
    return f"{actor.get_role_display()}, {lead.code}" if lead else actor.get_role_display()


def _canonical_hash(data):
    from approvals.services.decisions import snapshot_sha256

    return snapshot_sha256(data)


def _letter_document(subject, reference, author, body_html):
    """The letter's whole HTML document, as typeset into its PDF."""
    return render_to_string(
        "approvals/letters/document.html",
        {"title": f"{subject} ({reference})", "author": author, "body_html": body_html},
    )


def _issue(
    *, kind, reference, subject, vendor, actor, record_sha256, issued_at, targets, context, typeset=True
):
    lead = agency_of(actor)
    issued_on = timezone.localdate(issued_at)
    longest = Letter._meta.get_field("subject").max_length  # (a long model name and a long scope)
    subject = subject if len(subject) <= longest else subject[: longest - 1].rstrip() + "…"
    signer = {
        "signatory_name": actor.full_name or actor.email,
        "signatory_title": signatory_title(actor, lead),
    }
    body_html = render_to_string(
        "approvals/letters/letter.html",
        {
            **context,
            **signer,
            "kind": kind,
            "reference": reference,
            "subject": subject,
            "vendor": vendor,
            "lead": lead,
            "issued_on": issued_on,
            "record_sha256": record_sha256,
        },
    )
    author = lead.name if lead else ""
    pdf = _pdf_now(_letter_document(subject, reference, author, body_html)) if typeset else None
    pdf_sha256 = hashlib.sha256(pdf).hexdigest() if pdf is not None else ""
    letter = Letter(
        kind=kind,
        reference=reference,
        subject=subject,
        vendor=vendor,
        issued_at=issued_at,
        signed_by=actor,
        record_sha256=record_sha256,
        body_html=body_html,
        pdf_sha256=pdf_sha256,
        pdf_size_bytes=len(pdf) if pdf is not None else 0,
        **signer,
        **targets,
    )
    # Named by its content: a transaction rolled back leaves at most an unreferenced file, and
    # no letter's file is ever overwritten.
    if pdf is not None:
        letter.pdf.save(f"{reference}-{pdf_sha256[:16]}.pdf", ContentFile(pdf), save=False)
    return _save(
        letter, actor=actor, reason=f"{letter.get_kind_display()} {reference} issued by {_person(actor)}."
    )


def issue_decision_letter(decision, *, conditions, valid_to, positions):
    """The decision letter, with the conditions and the proposing agencies, and the snapshot hash."""
    access_request = decision.access_request
    approved = decision.outcome == decision.Outcome.APPROVED
    customer = access_request.partner_customer
    subject = (
        f"{'Approval' if approved else 'Denial'} of preview access for {customer.legal_name} "
        f"to {access_request.frontier_model}"
    )
    return _issue(
        kind=Letter.Kind.DECISION,
        reference=f"{access_request.tracking_number}-DEC",
        subject=subject,
        vendor=access_request.vendor,
        actor=decision.decided_by,
        record_sha256=decision.snapshot_sha256,
        issued_at=decision.decided_at,
        targets={"decision": decision, "access_request": access_request},
        context={
            "access_request": access_request,
            "customer": customer,
            "frontier_model": access_request.frontier_model,
            "outcome": decision.outcome,
            "rationale": decision.rationale,
            "conditions": conditions,
            "positions": positions,
            "valid_from": timezone.localdate(decision.decided_at),
            "valid_to": valid_to,
        },
    )


def issue_intent_letter(intent):
    """The intent to deny: the reasons and the day by which the vendor may respond."""
    access_request = intent.access_request
    customer = access_request.partner_customer
    record = {
        "tracking_number": access_request.tracking_number,
        "reasons": intent.reasons,
        "respond_by": intent.respond_by.isoformat(),
        "issued_at": intent.issued_at.isoformat(),
    }
    return _issue(
        kind=Letter.Kind.INTENT_TO_DENY,
        reference=f"{access_request.tracking_number}-ITD",
        subject=f"Intent to deny preview access for {customer.legal_name} to {access_request.frontier_model}",
        vendor=access_request.vendor,
        actor=intent.issued_by,
        record_sha256=_canonical_hash(record),
        issued_at=intent.issued_at,
        targets={"intent_to_deny": intent, "access_request": access_request},
        context={
            "access_request": access_request,
            "customer": customer,
            "frontier_model": access_request.frontier_model,
            "reasons": intent.reasons,
            "respond_by": intent.respond_by,
        },
    )


def _attestation_lines(action):
    """A suspension's cut-off attestation: how many, and by when (the portal's time zone). The
    notice names no customer: it goes to every agency referred on any request for the model, and
    an agency sees a customer only on the requests it is referred on (the vendor's attestation
    page lists them)."""
    if not action.attest_by:
        return []
    due = timezone.localtime(action.attest_by)
    return [
        f"Attest in the portal (“Attest the cut-off” on the dashboard) that access was cut off, one "
        f"attestation per grant suspended ({action.grants_affected}), by {due:%B} {due.day}, {due:%Y} "
        f"at {due:%H:%M} {due.tzname()}."
    ]


def _notice_words(action):
    """The notice's subject, its opening sentence and what the action did."""
    Kind = EnforcementAction.Kind
    vendor = action.vendor
    if action.kind == Kind.SUSPEND_MODEL and action.scope:
        return (
            f"Notice of suspension of {action.frontier_model} for {action.scope}",
            f"The lead agency suspends {action.frontier_model} for {action.scope}: their access is to be "
            "cut off at once, and the model may not be offered to them until the suspension is lifted. "
            "The model stays available to its other partner customers.",
            [
                f"Customers covered: {action.partner_customers.count()}.",
                f"Their grants for the model suspended: {action.grants_affected}.",
                f"Their open access requests for the model put on hold: {action.requests_affected}.",
                *_attestation_lines(action),
            ],
        )
    if action.kind == Kind.SUSPEND_MODEL:
        return (
            f"Notice of suspension of {action.frontier_model}",
            f"The lead agency suspends {action.frontier_model}: the model is to be taken offline at once "
            "and may not be offered to any partner customer until the suspension is lifted.",
            [
                f"Grants for the model suspended: {action.grants_affected}.",
                f"Open access requests for the model put on hold: {action.requests_affected}.",
                *_attestation_lines(action),
            ],
        )
    if action.kind == Kind.LIFT_SUSPENSION:
        scoped = f" for {action.scope}" if action.scope else ""
        return (
            f"Notice that the suspension of {action.frontier_model}{scoped} is lifted",
            f"The lead agency lifts the suspension of {action.frontier_model}{scoped}.",
            [
                f"Grants restored: {action.grants_affected}.",
                f"Access requests taken off hold: {action.requests_affected}.",
            ],
        )
    if action.kind == Kind.REVOKE_GRANT:
        grant = action.grant
        return (
            f"Notice of revocation of the grant for {grant.partner_customer} to {grant.frontier_model}",
            f"The lead agency revokes the grant that cleared {grant.partner_customer} for "
            f"{grant.frontier_model} (access request {grant.access_request.tracking_number}), with immediate "
            "effect: access is to end at once.",
            [],
        )
    if action.kind == Kind.DESIGNATE_VENDOR:
        return (
            f"Notice of designation of {vendor} as a supply-chain risk",
            f"The lead agency designates {vendor} a supply-chain risk.",
            [
                "Every open access request of the vendor is referred to the Department of Defense as well "
                f"({action.requests_affected} referred by this notice).",
            ],
        )
    return (
        f"Notice that the designation of {vendor} as a supply-chain risk is rescinded",
        f"The lead agency rescinds the designation of {vendor} as a supply-chain risk.",
        [],
    )


def issue_enforcement_letter(action, *, typeset=True):
    """The notice of an enforcement action: legal basis, findings, effect, and any window to answer.
    ``typeset=False`` issues it without its PDF, for ``typeset_letter`` to add after the action's
    transaction (a suspension's follow-through)."""
    subject, opening, effects = _notice_words(action)
    designation = action.kind in ENFORCEMENT_PREFIX
    kind = Letter.Kind.DESIGNATION_NOTICE if designation else Letter.Kind.ENFORCEMENT_NOTICE
    prefix = ENFORCEMENT_PREFIX.get(action.kind, "ENF")
    record = {
        "action": action.pk,
        "kind": action.kind,
        "vendor": action.vendor.legal_name,
        "frontier_model": str(action.frontier_model) if action.frontier_model_id else None,
        "grant": action.grant_id,
        "legal_basis": action.legal_basis,
        "findings": action.findings,
        "taken_at": action.taken_at.isoformat(),
        "respond_by": action.respond_by.isoformat() if action.respond_by else None,
        "attest_by": action.attest_by.isoformat() if action.attest_by else None,
        "scope": action.scope,
        "partner_customers": sorted(action.partner_customers.values_list("pk", flat=True)),
        "grants_affected": action.grants_affected,
        "requests_affected": action.requests_affected,
    }
    return _issue(
        kind=kind,
        reference=f"{prefix}-{action.taken_at:%Y}-{action.pk:06d}",
        subject=subject,
        vendor=action.vendor,
        actor=action.taken_by,
        record_sha256=_canonical_hash(record),
        issued_at=action.taken_at,
        targets={"enforcement_action": action},
        context={"action": action, "notice_opening": opening, "notice_effects": effects},
        typeset=typeset,
    )


def typeset_letter(letter):
    """Add the PDF of a letter issued without it (``typeset=False``), with a history row; nothing
    when it has one or this server makes no PDFs. The words are the stored page's, as issued."""
    if letter.pdf:
        return letter
    lead = agency_of(letter.signed_by)
    author = lead.name if lead else ""
    pdf = _pdf_now(_letter_document(letter.subject, letter.reference, author, letter.body_html))
    if pdf is None:
        return letter
    letter.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    letter.pdf_size_bytes = len(pdf)
    letter.pdf.save(f"{letter.reference}-{letter.pdf_sha256[:16]}.pdf", ContentFile(pdf), save=False)
    return _save(
        letter,
        actor=letter.signed_by,
        reason=f"{letter.get_kind_display()} {letter.reference}: its PDF typeset.",
        update_fields=["pdf", "pdf_sha256", "pdf_size_bytes"],
    )


def letter_attachment(letter):
    """What ``notify(attachment=…)`` takes: the stored PDF's name and the file name the mail shows
    (``None`` for a letter issued without its PDF: the mail then links to the letter's page)."""
    if not letter.pdf:
        return None
    return {"path": letter.pdf.name, "filename": letter.pdf_filename}


def _pdf_now(document):
    """The letter's PDF, made with the letter; ``None`` when this server makes no PDFs
    (``LETTERS_PDF`` off, or WeasyPrint's system libraries missing: a decision is never refused
    for want of a typesetter). Such a letter's PDF is made from its stored page when asked for."""
    if not getattr(settings, "LETTERS_PDF", True):
        return None
    try:
        return html_to_pdf(document, stylesheets=LETTER_STYLESHEETS)
    except PortalError as exc:
        if str(exc) != WEASYPRINT_MISSING:
            raise
        logger.warning("Letter issued without its PDF: %s", exc)
        return None


def letter_pdf_bytes(letter):
    """The PDF of ``letter``: the file stored when it was issued, else made now from the page
    stored then (the same words; raises ``PortalError`` when this server cannot make PDFs)."""
    if letter.pdf:
        with letter.pdf.open("rb") as stored:
            return stored.read()
    document = render_to_string(
        "approvals/letters/document.html",
        {
            "title": f"{letter.subject} ({letter.reference})",
            "author": "",
            "body_html": letter.body_html,
        },
    )
    return html_to_pdf(document, stylesheets=LETTER_STYLESHEETS)
