"""Every input bounded: deadlines at most a year ahead, detection dates from 2000 to today,
ids in query parameters parsed safely, audit exports within the years that hold history."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from approvals import services
from approvals.tests.factories import submitted
from portal.errors import PortalError
from portal.params import int_param

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        (" 7 ", 7),
        ("99999999999999999999", None),  # beyond bigint: the database would refuse it
        (str(2**63 - 1), 2**63 - 1),
        (str(2**63), None),
        ("²", None),  # str.isdigit() says yes, int() says no
        ("٣", None),
        ("-1", None),
        ("0", None),
        ("1e3", None),
        ("", None),
        (None, None),
    ],
)
def test_int_param_takes_plain_ids_only(text, expected):
    assert int_param(text) == expected


def test_an_information_request_deadline_is_at_most_a_year_ahead(world):
    access_request = submitted(world)
    today = timezone.localdate()
    for deadline in (date(9999, 12, 31), today + timedelta(days=366)):
        with pytest.raises(PortalError, match="at most a year ahead"):
            services.issue_information_request(
                access_request=access_request,
                actor=world["doc_reviewer"],
                question="Which regions?",
                deadline=deadline,
            )
    assert not access_request.information_requests.exists()
    question = services.issue_information_request(
        access_request=access_request,
        actor=world["doc_reviewer"],
        question="Which regions?",
        deadline=today + timedelta(days=365),
    )
    assert question.deadline == today + timedelta(days=365)


@pytest.mark.parametrize(
    ("detected_on", "message"),
    [
        (date(1, 1, 1), "cannot be before 01 January 2000"),
        (date(1999, 12, 31), "cannot be before 01 January 2000"),
        (date(9999, 12, 31), "cannot be in the future"),
    ],
)
def test_an_incident_is_detected_between_2000_and_today(world, detected_on, message):
    with pytest.raises(PortalError, match=message):
        services.report_incident(
            frontier_model=world.frontier_model,
            actor=world["officer"],
            category="leaked_weights",
            severity="security_breach",
            description="Weights found on a file-sharing site.",
            detected_on=detected_on,
        )
    assert not world.frontier_model.incident_reports.exists()


@pytest.mark.parametrize("value", ["99999999999999999999", "²", "-3"])
def test_the_grants_page_ignores_a_model_id_it_cannot_read(client, world, value):
    client.force_login(world["vendor_admin"])
    response = client.get("/vendor/grants/", {"model": value})
    assert response.status_code == 200
    assert response.context["filters"]["model"] == ""


@pytest.mark.parametrize("value", ["99999999999999999999", "²"])
def test_a_new_request_ignores_a_preselected_id_it_cannot_read(client, world, value):
    client.force_login(world["officer"])
    assert client.get("/vendor/requests/new/", {"frontier_model": value}).status_code == 200


def test_an_audit_export_for_the_year_9999_is_a_message(client, world):
    client.force_login(world["auditor"])
    response = client.get("/admin/audit-export/", {"start": "9999-01-01", "end": "9999-12-31"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "no history lies outside" in response.content.decode()
    response = client.get("/admin/audit-export/", {"start": "1999-12-31", "end": "2000-01-02"})
    assert "no history lies outside" in response.content.decode()


@pytest.mark.parametrize(
    "drill_down",
    [
        {"year": "99999999999999999999"},  # OverflowError in Django's date_hierarchy
        {"year": "9999"},  # its next year is out of range
        {"year": "9999", "month": "12"},
        {"year": "2026", "month": "13"},
    ],
)
def test_a_list_s_date_drill_down_refuses_a_date_it_cannot_build(client, world, drill_down):
    client.force_login(world["auditor"])
    for url, field in (
        ("/admin/accounts/signinevent/", "at"),
        ("/admin/notifications/notification/", "created_at"),
    ):
        response = client.get(url, {f"{field}__{part}": value for part, value in drill_down.items()})
        assert response.status_code == 302, url
        assert response["Location"].endswith("?e=1"), url


def test_every_admin_list_reads_its_parameters_through_the_bounded_change_list():
    from django.test import RequestFactory

    from portal.admin import BoundedChangeList
    from portal.admin_site import admin_site

    request = RequestFactory().get("/")
    for model, model_admin in admin_site._registry.items():
        assert issubclass(model_admin.get_changelist(request), BoundedChangeList), model
