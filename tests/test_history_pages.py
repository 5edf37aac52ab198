"""Every history page and every history-version page of every model opens for every role that may
see it, and reads as people read: labels, names and local times, nothing for empty values."""

import re

import pytest
from django.urls import reverse

from approvals.models import Agency, RoutingRule
from portal import permissions
from portal.admin_site import admin_site
from tests.test_route_walk import ADMIN_MODELS, walk_world  # noqa: F401 - the walk's world

ROLES = ("auditor", "approver", "reviewer", "agency_admin", "portal_admin")
# What a history page must never show: a diff of nothing, a raw UTC timestamp with microseconds.
UNREADABLE = [
    re.compile(r"Deleted \w+ \(pk=None\)"),
    re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00"),
    re.compile(r"&rarr;&nbsp;&nbsp;None\b"),
]


def _records(world):
    records = [world.b[name] for names in ADMIN_MODELS.values() for name in names]
    records += list(Agency.objects.all()[:2]) + list(RoutingRule.objects.all()[:2])
    return [r for r in records if type(r) in admin_site._registry and hasattr(r, "history")]


def _person(world, role):
    if role in ("portal_admin", "agency_admin"):
        return world.factory_world["doc_admin" if role == "agency_admin" else role]
    return world.owners[role]


WIDGET = re.compile(r'<(?:select|textarea)\b[^>]*>|<input\b(?![^>]*type="(?:hidden|submit)")[^>]*>')


def _main_form(page):
    """The version's form on its page (the menu's search and sign-out forms left out)."""
    start = page.find('<div id="content-main"')
    return page[start : page.find('<div id="footer"', start)] if start >= 0 else page


def _breadcrumbs(page):
    start = page.find('<div class="breadcrumbs">')
    return re.sub(r"<[^>]+>|\s+", " ", page[start : page.find("</div>", start)]).strip() if start >= 0 else ""


@pytest.mark.parametrize("role", ROLES)
def test_every_history_version_page_opens_for_every_role_that_may_see_it(client, walk_world, db, role):  # noqa: F811
    client.force_login(_person(walk_world, role))
    problems, opened = [], 0
    for record in _records(walk_world):
        opts = record._meta
        history_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[record.pk])
        response = client.get(history_url)
        if response.status_code == 404:
            # the auditor reads every record but a vendor team's drafts (portal.permissions.private_rows)
            private = permissions.private_rows(type(record))
            rows = type(record)._default_manager
            kept_private = private is not None and rows.filter(private, pk=record.pk).exists()
            assert role != "auditor" or kept_private, f"the auditor cannot read {history_url}"
            continue
        if response.status_code != 200:
            problems.append(f"{history_url} answered {response.status_code}")
            continue
        page = response.content.decode()
        problems += [f"{history_url} shows {p.pattern}" for p in UNREADABLE if p.search(page)]
        for version in record.history.order_by("history_id").values_list("history_id", flat=True):
            url = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_simple_history", args=[record.pk, version]
            )
            response = client.get(url)
            opened += 1
            if response.status_code != 200:
                problems.append(f"{url} answered {response.status_code}")
            elif "Historical" in (crumbs := _breadcrumbs(response.content.decode())):
                # the way back names the record's list, not the history table's
                problems.append(f"{url}'s breadcrumb reads {crumbs!r}")
            elif WIDGET.search(form := _main_form(response.content.decode())):
                # a past version is read as text, not shown in widgets that look editable
                problems.append(f"{url} shows an editable-looking field: {WIDGET.search(form).group(0)}")
    assert opened > (30 if role == "auditor" else 5), opened
    assert not problems, "\n".join(problems)


def test_history_diffs_read_as_people_read_them(client, walk_world, db):  # noqa: F811
    client.force_login(walk_world.owners["auditor"])
    request = walk_world.request
    page = client.get(f"/admin/approvals/accessrequest/{request.pk}/history/").content.decode()
    changes = re.findall(r"<strong>Status:</strong>([^<]*)", page)
    assert changes, page
    assert "In review" in " ".join(changes)  # labels, not status codes
    assert "in_review" not in " ".join(changes)
    grant = walk_world.grant
    page = client.get(f"/admin/approvals/grant/{grant.pk}/history/").content.decode()
    assert not any(p.search(page) for p in UNREADABLE)


def test_a_sign_in_writes_no_history_row_for_the_user(client, walk_world, db):  # noqa: F811
    officer = walk_world.officer
    officer.set_password("a long walk password")
    officer.save(update_fields=["password"])
    rows = officer.history.count()
    assert client.login(email=officer.email, password="a long walk password")
    officer.refresh_from_db()
    assert officer.last_login is not None
    assert officer.history.count() == rows


def test_the_typed_words_are_on_the_history_row_of_the_verb(walk_world, db):  # noqa: F811
    """The question and the answer as typed, on the history rows of asking and answering."""
    reasons = list(walk_world.question.history.values_list("history_change_reason", flat=True))
    assert any("Question: Which walk regions?" in reason for reason in reasons), reasons
    assert any("Answer: U.S. only." in reason for reason in reasons), reasons


@pytest.mark.parametrize("role", ["portal_admin", "approver"])
def test_every_admin_change_page_that_saves_carries_its_version(client, walk_world, db, role):  # noqa: F811
    """No lost update on any admin change page: each one with a Save button sends back the version
    it showed (``portal_version``), so that a stale save is refused (approvals/tests/test_stale_admin)."""
    client.force_login(_person(walk_world, role))
    saving, problems = 0, []
    for record in _records(walk_world):
        opts = record._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])
        response = client.get(url)
        if response.status_code != 200:
            continue
        page = response.content.decode()
        if 'name="_save"' not in page:
            continue  # read-only for this role
        saving += 1
        if not re.search(r'name="portal_version" value="\d+"', page):
            problems.append(f"{url} saves without carrying its version")
    assert saving >= (4 if role == "portal_admin" else 0), saving
    assert not problems, "\n".join(problems)
