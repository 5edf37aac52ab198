"""Large audit exports, written by a background job (``portal.jobs``)."""

from datetime import date

from portal.audit.chain import ledger_head
from portal.audit.export import as_csv, as_json, audit_rows, may_export
from portal.errors import PortalError
from portal.jobs.models import Job
from portal.jobs.services import JobResult, register_runner, start_job


def start_audit_export_job(*, actor, start, end, file_format, estimate):
    """Ask for an audit export in the background; only the person who asks sees the job and
    its file (an export covers what its owner may read, no more)."""
    if not may_export(actor):
        raise PortalError("Only officials, auditors and administrators may export the audit trail.")
    return start_job(
        kind=Job.Kind.AUDIT_EXPORT,
        title=f"Audit export {start:%b %-d, %Y} – {end:%b %-d, %Y} ({file_format.upper()})",
        owner=actor,
        params={"start": start.isoformat(), "end": end.isoformat(), "format": file_format},
        total=estimate,
    )


def run_audit_export(job, progress):
    if not may_export(job.owner):
        raise PortalError("You may no longer export the audit trail.")
    start, end = date.fromisoformat(job.params["start"]), date.fromisoformat(job.params["end"])
    rows = audit_rows(
        job.owner,
        start=start,
        end=end,
        progress=lambda done, total: progress(done, total, "Reading the history"),
    )
    head, _chains = ledger_head()
    name = f"portal-audit-{start:%Y%m%d}-{end:%Y%m%d}"
    if job.params.get("format") == "json":
        content, filename, content_type = (
            as_json(rows, start=start, end=end, chain_head=head),
            f"{name}.json",
            "application/json",
        )
    else:
        content, filename, content_type = (
            as_csv(rows, chain_head=head),
            f"{name}.csv",
            "text/csv; charset=utf-8",
        )
    return JobResult(
        summary=f"{len(rows):,} changes written to {filename} (chain head {head[:12]}…).",
        content=content.encode("utf-8"),
        filename=filename,
        content_type=content_type,
    )


register_runner(Job.Kind.AUDIT_EXPORT, run_audit_export)
