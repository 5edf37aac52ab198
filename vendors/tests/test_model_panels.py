"""Other apps add panels to a model's page through ``VENDOR_MODEL_PANELS``; the registry imports none."""

import pytest
from django.urls import reverse

from vendors.tests.factories import FrontierModelFactory

pytestmark = pytest.mark.django_db
SEEN = []


class _Said:
    def __init__(self, text):
        self.text = text

    def non_field_errors(self):
        return [self.text]


def saying_panel(request, frontier_model):
    """A panel that names the model it was given; ``None`` for a model called "Quiet"."""
    SEEN.append((request.user, frontier_model))
    if frontier_model.name == "Quiet":
        return None
    return {
        "template": "vendors/_form_errors.html",
        "context": {"form": _Said(f"Panel for {frontier_model}")},
    }


def test_model_page_renders_each_configured_panel_with_the_request_and_the_model(client, world, settings):
    settings.VENDOR_MODEL_PANELS = ["vendors.tests.test_model_panels.saying_panel"]
    frontier_model = FrontierModelFactory(vendor=world.vendor, name="Loud")
    quiet = FrontierModelFactory(vendor=world.vendor, name="Quiet")
    client.force_login(world.viewer)
    page = client.get(reverse("vendors:model_detail", args=[frontier_model.pk])).content.decode()
    assert f"Panel for {frontier_model}" in page
    assert SEEN[-1] == (world.viewer, frontier_model)
    page = client.get(reverse("vendors:model_detail", args=[quiet.pk])).content.decode()
    assert "Panel for" not in page


def test_without_the_setting_the_page_has_no_panels(client, world, settings):
    settings.VENDOR_MODEL_PANELS = []
    frontier_model = FrontierModelFactory(vendor=world.vendor)
    client.force_login(world.officer)
    response = client.get(reverse("vendors:model_detail", args=[frontier_model.pk]))
    assert response.status_code == 200
    assert "usa-alert--error" not in response.content.decode()
