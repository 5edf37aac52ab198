"""A test-only view that queues a real task, to follow one request id through a worker."""

from django.http import HttpResponse
from django.urls import include, path

from portal.accounts.tasks import deactivate_dormant_accounts


def queue_dormant_sweep(request):
    deactivate_dormant_accounts.apply_async(queue=request.GET["queue"], retry=False)
    return HttpResponse("queued")


urlpatterns = [
    path("test/queue-dormant-sweep/", queue_dormant_sweep),
    path("", include("portal.urls")),
]
