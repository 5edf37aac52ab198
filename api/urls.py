"""``/api/v1/…`` (the vendor API), ``/api/schema/`` (OpenAPI 3) and ``/api/docs/`` (its pages)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api.views import entitlements

app_name = "api"

v1 = [
    path("entitlements/", entitlements.EntitlementView.as_view(), name="entitlement"),
    path("entitlements/batch/", entitlements.EntitlementBatchView.as_view(), name="entitlement_batch"),
    path("", include("api.views.resource_urls")),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
]
