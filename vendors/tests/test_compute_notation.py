"""Training compute as people write it: every common notation is read, zero and negatives are
refused with a message, and the page says back what was typed and how it was read."""

import pytest
from django.urls import reverse

from portal.errors import PortalError
from vendors import services
from vendors.models import FrontierModel, parse_flop

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("4 x 10^26", 4e26),
        ("4 X 10^26", 4e26),
        ("4X10^26", 4e26),
        ("4 × 10^26", 4e26),
        ("4·10^26", 4e26),
        ("4 * 10 ** 26", 4e26),
        ("4 x 10^{26}", 4e26),
        ("4 × 10²⁶", 4e26),
        ("4E26", 4e26),
        ("4e+26", 4e26),
        ("4.0E+26 FLOP", 4e26),
        ("4e26 FLOPs", 4e26),
        ("4 x 10^26 flop", 4e26),
        ("10^26", 1e26),
        ("1,000,000", 1e6),
        ("1 000 000", 1e6),
        ("1,000", 1e3),
        ("12,345,678.5", 12345678.5),
        ("4,000 x 10^23", 4e26),
    ],
)
def test_every_common_notation_is_read(typed, value):
    assert parse_flop(typed) == pytest.approx(value)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0", "more than zero"),
        ("0e26", "more than zero"),
        ("0 x 10^26", "more than zero"),
        ("-4e26", "cannot be negative"),
        ("\u22124 × 10^26", "cannot be negative"),  # with a minus sign
        ("-1", "cannot be negative"),
    ],
)
def test_zero_and_negative_compute_are_refused_with_a_message(typed, message):
    with pytest.raises(ValueError, match=message):
        parse_flop(typed)


@pytest.mark.parametrize(
    "typed", ["4,0e26", "4,0 × 10^26", "3,2", "1,00,000", "1,0000", "1.000,5", ",5", "4,"]
)
def test_a_comma_that_is_not_a_thousands_separator_is_refused(typed):
    # "4,0e26" (a decimal comma) used to be read as 40e26: ten times the compute that was meant.
    with pytest.raises(ValueError, match=r"write the decimal point as “\.”"):
        parse_flop(typed)


def test_the_form_refuses_a_decimal_comma_next_to_the_field(client, world):
    client.force_login(world.officer)
    form = {"name": "Atlas", "version": "2.0", "training_compute_flop": "4,0e26"}
    response = client.post(reverse("vendors:model_create"), form)
    assert response.status_code == 200
    assert "decimal point" in str(response.context["form"].errors["training_compute_flop"])
    assert not FrontierModel.objects.filter(vendor=world.vendor).exists()


@pytest.mark.parametrize(
    ("typed", "message"), [(0, "more than zero"), (0.0, "more than zero"), (-1e26, "negative")]
)
def test_the_service_refuses_zero_and_negative_numbers_too(world, typed, message):
    with pytest.raises(PortalError, match=message):
        services.register_frontier_model(
            vendor=world.vendor, name="Atlas", version="2.0", training_compute_flop=typed, actor=world.officer
        )
    assert not FrontierModel.objects.filter(vendor=world.vendor).exists()


def test_the_form_refuses_zero_next_to_the_field(client, world):
    client.force_login(world.officer)
    response = client.post(
        reverse("vendors:model_create"), {"name": "Atlas", "version": "2.0", "training_compute_flop": "0"}
    )
    assert response.status_code == 200
    assert "more than zero" in str(response.context["form"].errors["training_compute_flop"])
    assert not FrontierModel.objects.filter(vendor=world.vendor).exists()


def test_the_page_says_back_what_was_typed_and_how_it_was_read(client, world):
    client.force_login(world.officer)
    response = client.post(
        reverse("vendors:model_create"),
        {"name": "Atlas", "version": "2.0", "training_compute_flop": "4 X 10^26"},
        follow=True,
    )
    page = response.content.decode()
    assert FrontierModel.objects.get(vendor=world.vendor).training_compute_flop == pytest.approx(4e26)
    assert "you wrote “4 X 10^26”, read as 4 × 10^26 FLOP" in page


def test_an_edit_says_back_the_compute_too(client, world):
    frontier_model = services.register_frontier_model(
        vendor=world.vendor, name="Atlas", version="2.0", training_compute_flop="3e26", actor=world.officer
    )
    client.force_login(world.officer)
    response = client.post(
        reverse("vendors:model_edit", args=[frontier_model.pk]),
        {"name": "Atlas", "version": "2.0", "training_compute_flop": "5.5 X 10^26", "reason": "Corrected"},
        follow=True,
    )
    frontier_model.refresh_from_db()
    assert frontier_model.training_compute_flop == pytest.approx(5.5e26)
    assert "you wrote “5.5 X 10^26”, read as 5.5 × 10^26 FLOP" in response.content.decode()
