"""Pages of background jobs: the list, one job's progress and result, its status, its file."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import render

from portal.jobs import selectors

POLL_MILLISECONDS = 1000


def _render(request, name, context, title):
    """The vendor's look (USWDS) for vendor members; the admin's for everyone else."""
    context = {"title": title, **context}
    if request.user.is_vendor_member:
        return render(request, f"jobs/{name}.html", context)
    from portal.admin_site import admin_site

    return render(request, f"admin/jobs/{name}.html", {**admin_site.each_context(request), **context})


def _job(request, pk):
    queryset = selectors.jobs_visible_to(request.user)
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404("No such record.") from None


@login_required
def job_list(request):
    page = Paginator(selectors.jobs_visible_to(request.user), 25).get_page(request.GET.get("page"))
    return _render(request, "list", {"page": page, "jobs": page.object_list}, "Background work")


@login_required
def job_detail(request, pk):
    job = _job(request, pk)
    response = _render(request, "detail", {"job": job, "poll_ms": POLL_MILLISECONDS}, job.title)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def job_status(request, pk):
    """What the progress script polls: the job's state as JSON."""
    job = _job(request, pk)
    response = JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "done": job.done,
            "total": job.total,
            "percent": job.percent,
            "phase": job.phase,
            "finished": not job.is_active,
        }
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def job_download(request, pk):
    job = _job(request, pk)
    if not job.result_file:
        raise Http404("This job has no file.")
    try:
        handle = job.result_file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("The file is no longer kept.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=job.result_filename or "export.csv",
        content_type=job.result_content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
