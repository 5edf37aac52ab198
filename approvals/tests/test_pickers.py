"""Pickers that scale: the new-request page lists a few customers and finds the rest by search."""

import re

import pytest
from django.urls import reverse

from approvals.tests.factories import bulk_copies, new_customer
from vendors.models import normalise_name

pytestmark = pytest.mark.django_db

NEW = "/vendor/requests/new/"
SEARCH = "/vendor/customers/search/"


def customers(world, count, name="Zephyr Harbour Logistics"):
    template = new_customer(world, legal_name=f"{name} 0000")
    return [
        template,
        *bulk_copies(
            template,
            count - 1,
            legal_name=lambda n: f"{name} {n + 1:04d}",
            normalised_name=lambda n: normalise_name(f"{name} {n + 1:04d}"),
        ),
    ]


def customer_options(html):
    select = html[html.index('name="partner_customer"') :]
    select = select[: select.index("</select>")]
    return re.findall(r'<option value="(\d+)"', select)


def test_the_new_request_page_carries_a_few_customers_and_the_search_address(client, world):
    many = customers(world, 300)
    client.force_login(world["officer"])

    html = client.get(NEW).content.decode()

    assert len(customer_options(html)) <= 20
    assert f'data-search-url="{reverse("vendors:customer_search")}"' in html
    assert "portal/combobox.js" in html
    # a customer beyond the first twenty, chosen from its page, is offered and selected
    last = many[-1]
    html = client.get(NEW, {"partner_customer": last.pk}).content.decode()
    assert str(last.pk) in customer_options(html)
    assert f'<option value="{last.pk}" selected>' in html


@pytest.mark.parametrize("count", [10, 300])
def test_the_new_request_page_costs_the_same_at_any_number_of_customers(
    client, world, count, django_assert_max_num_queries
):
    customers(world, count)
    client.force_login(world["officer"])
    with django_assert_max_num_queries(20):
        assert client.get(NEW).status_code == 200


def test_a_customer_outside_the_first_options_can_be_chosen(client, world):
    many = customers(world, 60)
    client.force_login(world["officer"])
    response = client.post(
        NEW,
        {
            "frontier_model": world.frontier_model.pk,
            "partner_customer": many[-1].pk,
            "use_case": "Alert triage.",
            "scope": "U.S. only.",
            "requested_duration_days": 90,
        },
    )
    assert response.status_code == 302
    assert many[-1].access_requests.count() == 1


def test_another_vendors_customer_is_refused_by_the_picker(client, world):
    foreign = new_customer(world)
    foreign.vendor = world.other_vendor
    foreign.save()
    client.force_login(world["officer"])
    response = client.post(
        NEW,
        {
            "frontier_model": world.frontier_model.pk,
            "partner_customer": foreign.pk,
            "use_case": "x",
            "scope": "y",
            "requested_duration_days": 90,
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_the_search_finds_by_typing_and_only_the_vendors_own(client, world):
    customers(world, 120)
    mine = new_customer(world, legal_name="Quillfeather Analytics", registration_id="QF-77")
    client.force_login(world["officer"])

    found = client.get(SEARCH, {"q": "quillfeath"}).json()["results"]
    assert [r["id"] for r in found] == [mine.pk]
    assert found[0]["text"].startswith("Quillfeather Analytics (")
    assert [r["id"] for r in client.get(SEARCH, {"q": "QF-7"}).json()["results"]] == [mine.pk]
    assert len(client.get(SEARCH, {"q": "Zephyr"}).json()["results"]) == 20
    assert (
        client.get(SEARCH, {"q": "Zephyr Harbour Logistics 0119"})
        .json()["results"][0]["text"]
        .startswith("Zephyr Harbour Logistics 0119")
    )

    client.force_login(world["other_officer"])
    assert client.get(SEARCH, {"q": "Quillfeather"}).json()["results"] == []
    client.force_login(world["doc_approver"])
    assert client.get(SEARCH, {"q": "Quillfeather"}).status_code == 404


@pytest.mark.parametrize("count", [10, 300])
def test_the_search_costs_the_same_at_any_number_of_customers(
    client, world, count, django_assert_max_num_queries
):
    customers(world, count)
    client.force_login(world["officer"])
    with django_assert_max_num_queries(12):
        assert client.get(SEARCH, {"q": "Zephyr"}).status_code == 200
