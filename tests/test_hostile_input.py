"""Hostile input: every page's query parameters and every form field, filled with bad values, as
each role that reaches the page. Zero server errors, zero partial writes.

Built on the route walk (``tests/test_route_walk.py``): its world (vendor B's records of every
kind, plus a request under review so that the officials' action forms are open) and its stops
(every address, with B's records in it). Each page is opened by the roles that may see it:
vendor pages by B's compliance admin, admin pages by DOC's approver and reviewer, the auditor and
the portal administrator. On each page that answers 200:

* ``GET`` with every query parameter the page knows (and the common ones) set to a hostile value;
* every ``<form method="post">`` on it is submitted with all its fields hostile at once, and with
  valid values except one date or number field at a time set out of range (a deadline in 9999,
  a detection date in year 1, an id beyond bigint).

A response may refuse (a form error, 400, 404, 405); it may not crash (an exception or a 500). A
refused submission must leave no history row and no notification behind (a partial write);
every request runs in a savepoint that is rolled back, so the world stays as it was built.
"""

import re
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from approvals.tests.factories import new_customer, submitted
from portal.audit.export import history_models
from tests.route_walk_world import build_walk_world
from tests.test_route_walk import build_walk

HOSTILE_TEXT = [
    "99999999999999999999",
    "-1",
    "²",
    "9999-12-31",
    "<script>alert(1)</script>\x7f",
    "x" * 5000,
]
HOSTILE_DATES = ["9999-12-31", "0001-01-01"]
HOSTILE_NUMBERS = ["99999999999999999999", "1e309"]
COMMON_PARAMS = [
    "page",
    "q",
    "o",
    "p",
    "model",
    "status",
    "start",
    "end",
    "format",
    "e",
    "_changelist_filters",
]


# ---------------------------------------------------------------------------------------------
# Reading forms out of a page


class _Forms(HTMLParser):
    """The POST forms of a page: ``[{"action": str, "fields": [(name, kind, value, options)]}]``."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self._form, self._select, self._textarea = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            if (a.get("method") or "get").lower() == "post":
                self._form = {"action": a.get("action") or "", "fields": []}
                self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "image", "reset"):
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and any(f[0] == name for f in self._form["fields"]):
                field = next(f for f in self._form["fields"] if f[0] == name)
                field[3].append(a.get("value") or "on")
                return
            options = [a.get("value") or "on"] if kind in ("checkbox", "radio") else []
            self._form["fields"].append([name, kind, a.get("value") or "", options])
        elif tag == "select" and name:
            self._select = [name, "select", "", []]
            self._form["fields"].append(self._select)
        elif tag == "option" and self._select is not None:
            self._select[3].append(a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = [name, "textarea", "", []]
            self._form["fields"].append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[2] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def post_forms(html):
    parser = _Forms()
    parser.feed(html)
    return [f for f in parser.forms if f["fields"]]


def _valid(name, kind, value, options):
    """A plausible valid value for a field, to hold the rest of a form still."""
    if kind == "hidden" or value:
        return value
    if kind in ("select", "radio"):
        return next((o for o in options if o), "")
    if kind == "checkbox":
        return options[0] if options else "on"
    if kind == "date":
        return (timezone.localdate() + timezone.timedelta(days=5)).isoformat()
    if kind == "number":
        return "1"
    if kind == "email":
        return "walker@example.org"
    if kind == "file":
        return None
    return "A walk through every field."


def _baseline(form):
    data = {}
    for name, kind, value, options in form["fields"]:
        valid = _valid(name, kind, value, options)
        if valid is not None and name != "csrfmiddlewaretoken":
            data[name] = valid
    return data


def submissions(form):
    """(label, data) pairs: all fields hostile at once, then one date/number field at a time."""
    fields = [f for f in form["fields"] if f[0] != "csrfmiddlewaretoken" and f[1] != "file"]
    out = []
    for bad in HOSTILE_TEXT[:3]:
        out.append((f"every field = {bad[:20]!r}", {f[0]: bad for f in fields}))
    baseline = _baseline(form)
    rows_seen = set()
    for name, kind, _value, _options in fields:
        # a form of repeated rows (condition_0_…, condition_1_…): the first row stands for all
        row_name = re.sub(r"_\d+_", "_N_", name)
        if row_name != name:
            if row_name in rows_seen:
                continue
            rows_seen.add(row_name)
        values = HOSTILE_DATES if kind == "date" else HOSTILE_NUMBERS if kind == "number" else []
        if kind == "hidden" and (name.endswith("_version") or name in ("version", "expected_version")):
            values = ["99999999999999999999", "²"]
        for bad in values:
            out.append((f"{name} = {bad!r}", {**baseline, name: bad}))
    return out


# ---------------------------------------------------------------------------------------------
# Counting what a request wrote


def _write_count():
    """History rows and notifications, in one query: what any write leaves behind."""
    tables = [m.history.model._meta.db_table for m in history_models()] + ["notifications_notification"]
    quote = connection.ops.quote_name
    sql = " + ".join(f"(SELECT count(*) FROM {quote(t)})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}")
        return cursor.fetchone()[0]


def _attempt(client, method, url, data=None):
    """``(status, problem)``: open ``url`` in a savepoint that is rolled back."""
    with transaction.atomic():
        before = _write_count() if method == "post" else None
        try:
            response = getattr(client, method)(url, data or {})
        except Exception as error:  # noqa: BLE001 - a crash is the finding
            transaction.set_rollback(True)
            return None, f"raised {type(error).__name__}: {str(error)[:200]}"
        problem = None
        if response.status_code >= 500:
            problem = f"answered {response.status_code}"
        elif before is not None and not 300 <= response.status_code < 400 and _write_count() != before:
            problem = f"answered {response.status_code} but wrote rows (a partial write)"
        transaction.set_rollback(True)
    return response, problem


# ---------------------------------------------------------------------------------------------
# The world and the walk


@pytest.fixture(scope="module")
def hostile_world(django_db_setup, django_db_blocker):
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            walk_world = build_walk_world()
            world = walk_world.factory_world
            # a request under review, so that the officials' action forms (ask, position, note…)
            # are open and can be filled in
            under_review = submitted(
                world,
                frontier_model=walk_world.m1,
                partner_customer=new_customer(world, legal_name="Hostile Co"),
            )
            walk_world.b["under_review"] = under_review
            yield walk_world
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _stops(walk_world):
    """One stop per route (its first record), plus the case page and action pages of the request
    under review."""
    seen, stops = set(), []
    for stop in build_walk(walk_world):
        if stop.key in seen or stop.key in ("admin:view_on_site", "accounts:logout", "admin:logout"):
            continue
        if stop.key.endswith("_delete"):
            continue
        seen.add(stop.key)
        stops.append(stop.url)
    request = walk_world.b["under_review"]
    base = f"/admin/approvals/accessrequest/{request.pk}/"
    stops += [base + "change/"] + [
        f"{base}{verb}/" for verb in ("assign", "position", "ask", "note", "escalate", "sign", "decide")
    ]
    return stops


# Who opens what: vendor pages B's compliance admin; admin pages the officials, the auditor and
# the portal administrator, in turn (page by page, so that each role meets hostile input on a
# share of the pages and the walk stays short); a page's forms are filled in by the first of the
# officials it opens for.
VENDOR_PREFIXES = ("/vendor/", "/notifications/")
ADMIN_ROLES = ["approver", "reviewer", "auditor", "portal_admin"]
FORM_ROLES = ["approver", "reviewer", "portal_admin"]
# (dates out of range go into each filter form's date fields: see _hostile_gets)
GET_VALUES = ["99999999999999999999", "²"]


def _clients(walk_world):
    from django.test import Client

    people = {"vendor": walk_world.owners["vendor"], "portal_admin": walk_world.factory_world["portal_admin"]}
    people |= {role: walk_world.owners[role] for role in ("approver", "reviewer", "auditor")}
    clients = {}
    for role, person in people.items():
        clients[role] = Client()
        clients[role].force_login(person)
    return clients


def _query_names(html):
    names = set(COMMON_PARAMS)
    for form in _get_forms(html):
        names |= set(form)
    return names


def _hostile_gets(client, url, html):
    problems = []
    names = _query_names(html)
    queries = [(f"every parameter = {bad!r}", {name: bad for name in sorted(names)}) for bad in GET_VALUES]
    # each filter form with valid choices and its dates and numbers out of range
    for form in _get_forms(html):
        typed = {}
        for name, (kind, options) in form.items():
            if kind == "select":
                typed[name] = options[0] if options else ""
            elif kind == "date":
                typed[name] = "9999-12-31"
            elif kind not in ("submit", "button", "hidden"):
                typed[name] = "99999999999999999999"
        if typed:
            queries.append((f"form {sorted(typed)} out of range", typed))
    for label, params in queries:
        _response, problem = _attempt(client, "get", f"{url}?{urlencode(params)}")
        if problem:
            problems.append(f"GET {url}?<{label}> {problem}")
    return problems


def _hostile_posts(client, url, html, prefixes):
    problems, posts = [], 0
    for form in post_forms(html):
        action = form["action"] or url
        path = urlsplit(action).path
        if (path and not path.startswith(prefixes)) or path.endswith("logout/"):
            continue  # sign-out and the like
        for label, data in submissions(form):
            posts += 1
            _response, problem = _attempt(client, "post", action, data)
            if problem:
                problems.append(f"POST {action} with {label}: {problem}")
    return problems, posts


def _page(client, url):
    response, problem = _attempt(client, "get", url)
    if response is None or response.status_code != 200 or getattr(response, "streaming", False):
        return None, problem
    return response.content.decode(errors="replace"), problem


def test_hostile_values_in_every_parameter_and_field_crash_nothing(hostile_world, db):
    clients = _clients(hostile_world)
    problems, seen, posts = [], {role: 0 for role in clients}, 0
    admin_pages = 0
    for url in _stops(hostile_world):
        if url.startswith(VENDOR_PREFIXES):
            getter, formers, prefixes = "vendor", ["vendor"], VENDOR_PREFIXES
        elif url.startswith("/admin/"):
            getter = ADMIN_ROLES[admin_pages % len(ADMIN_ROLES)]
            admin_pages += 1
            formers, prefixes = FORM_ROLES, ("/admin/",)
        else:
            continue
        if "/history/" in url:
            continue  # read-only pages without parameters: tests/test_history_pages.py opens every one
        html, problem = _page(clients[getter], url)
        problems += [f"{getter}: GET {url} {problem}"] if problem else []
        if html is not None:
            seen[getter] += 1
            problems += [f"{getter}: {p}" for p in _hostile_gets(clients[getter], url, html)]
        for role in formers:
            form_html = html if role == getter else _page(clients[role], url)[0]
            if form_html is None or not post_forms(form_html):
                continue
            found, count = _hostile_posts(clients[role], url, form_html, prefixes)
            problems += [f"{role}: {p}" for p in found]
            posts += count
            break
    # the walk reaches pages as every role, and fills in forms
    assert all(count >= 3 for count in seen.values()), seen
    assert posts > 50, posts
    assert not problems, f"{len(problems)} problems\n  " + "\n  ".join(problems[:40])


class _GetForms(HTMLParser):
    """The GET forms of a page (filters, ranges): ``[{name: (kind, [options])}]``."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self._form, self._select = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {} if (a.get("method") or "get").lower() == "get" else None
            if self._form is not None:
                self.forms.append(self._form)
        elif self._form is not None and tag == "input" and a.get("name"):
            self._form[a["name"]] = ((a.get("type") or "text").lower(), [])
        elif self._form is not None and tag == "select" and a.get("name"):
            self._select = self._form[a["name"]] = ("select", [])
        elif tag == "option" and self._select is not None and a.get("value"):
            self._select[1].append(a["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _get_forms(html):
    parser = _GetForms()
    parser.feed(html)
    return parser.forms
