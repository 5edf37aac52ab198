"""The audit export page of the agency dashboard (``/admin/audit-export/``)."""

from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from portal.audit.chain import ledger_head
from portal.audit.export import AuditRangeForm, as_csv, as_json, audit_rows, may_export


def audit_export(request):
    """A form for a date range; a valid range downloads every change the user may see in it."""
    from portal.admin_site import admin_site

    if not may_export(request.user):
        raise Http404("No such page.")
    today = timezone.localdate()
    submitted = bool(request.GET.get("start") or request.GET.get("end"))
    form = AuditRangeForm(
        request.GET if submitted else None, initial={"start": today.replace(day=1), "end": today}
    )
    if submitted and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
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
    }
    return TemplateResponse(request, "admin/audit_export.html", context)
