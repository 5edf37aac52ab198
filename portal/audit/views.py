"""The audit export page of the agency dashboard (``/admin/audit-export/``)."""

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone

from portal.audit.chain import ledger_head
from portal.audit.export import AuditRangeForm, as_csv, as_json, audit_rows, changes_at_most, may_export


def background_export_rows():
    """Ranges holding more changes than this are exported by a background job."""
    return getattr(settings, "AUDIT_EXPORT_BACKGROUND_ROWS", 5000)


def audit_export(request):
    """A form for a date range; a valid range downloads every change the user may see in it,
    or, for a range of thousands of changes, offers to write the file in the background (POST)."""
    from portal.admin_site import admin_site

    if not may_export(request.user):
        raise Http404("No such page.")
    today = timezone.localdate()
    data = request.POST if request.method == "POST" else request.GET
    submitted = bool(data.get("start") or data.get("end"))
    form = AuditRangeForm(data if submitted else None, initial={"start": today.replace(day=1), "end": today})
    estimate = 0
    if submitted and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        estimate = changes_at_most(start=start, end=end)
    if estimate > background_export_rows():
        if request.method == "POST":
            from portal.audit.jobs import start_audit_export_job

            job = start_audit_export_job(
                actor=request.user,
                start=start,
                end=end,
                file_format=form.cleaned_data["format"],
                estimate=estimate,
            )
            return redirect("jobs:detail", pk=job.pk)
    elif submitted and form.is_valid():
        rows = audit_rows(request.user, start=start, end=end)
        head, _chains = ledger_head()
        name = f"portal-audit-{start:%Y%m%d}-{end:%Y%m%d}"
        if form.cleaned_data["format"] == "json":
            body = as_json(rows, start=start, end=end, chain_head=head)
            response = HttpResponse(body, content_type="application/json")
            response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        else:
            response = HttpResponse(as_csv(rows, chain_head=head), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        response["X-Audit-Chain-Head"] = head
        return response
    context = {
        **admin_site.each_context(request),
        "title": "Audit export",
        "form": form,
        "everything": request.user.sees_everything,
        "background": estimate > background_export_rows(),
        "estimate": estimate,
    }
    return TemplateResponse(request, "admin/audit_export.html", context)
