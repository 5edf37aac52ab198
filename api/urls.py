"""``/api/v1/…`` (the vendor API), ``/api/schema/`` (OpenAPI 3) and ``/api/docs/`` (its pages)."""

from django.http import JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api.views import entitlements

app_name = "api"

v1 = [
    path("entitlements/", entitlements.EntitlementView.as_view(), name="entitlement"),
    path("entitlements/batch/", entitlements.EntitlementBatchView.as_view(), name="entitlement_batch"),
    path("", include("api.views.resource_urls")),
]


@csrf_exempt  # it changes nothing; a POST to an unknown address is a 404 problem too
def not_found(request, rest=""):
    """Any other address under /api/ answers a problem, not the HTML error page."""
    body = {"type": "https://portal.example/problems/not-found", "title": "Not found.", "status": 404}
    return JsonResponse(
        {**body, "detail": "No such address."}, status=404, content_type="application/problem+json"
    )


urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
    re_path(r"^(?P<rest>.*)$", not_found, name="not_found"),
]
