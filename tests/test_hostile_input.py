"""Hostile input: every page's query parameters and every form field, filled with bad values, as
each role that reaches the page. Zero server errors, zero partial writes.

Built on the route walk (``tests/test_route_walk.py``): its world (vendor B's records of every
kind, plus a request under review so that the officials' action forms are open) and its stops
(every address, with B's records in it), plus the public pages and the sign-in-and-security page.
Each page is opened by every role that may see it: vendor pages by B's compliance admin, officer
and viewer; admin pages by DOC's approver, reviewer and agency administrator, the auditor and the
portal administrator; background work and security pages by all of them; public pages by someone
signed out. On each page that answers 200:

* its parameters are found, not listed by hand: the fields of its ``GET`` forms, the parameters
  of its links to itself (the admin's filters, sorting, date drill-down, pages), every name the
  view looked up in ``request.GET`` while answering, and a few common ones;
* ``GET`` with all of them set to a hostile value at once (as each role), and each one the view
  read or linked to set alone (once per page: an early refusal of one parameter must not hide
  what another does), and each filter form with its dates and numbers out of range;
* every ``<form method="post">`` on it is submitted, by each role it is offered to, with all its
  fields hostile at once, and with valid values except one date or number field at a time set
  out of range (a deadline in 9999, a detection date in year 1, an id beyond bigint).

A response may refuse (a form error, 400, 404, 405); it may not crash (an exception or a 500). A
refused submission must leave no history row and no notification behind (a partial write);
every request runs in a savepoint that is rolled back, so the world stays as it was built.
About 1,700 hostile GETs and 850 POSTs; 92 s on the shared 2-core machine (36 s before the
parameters were found and every role walked).
"""

import re
from contextlib import contextmanager
from functools import lru_cache
from html.parser import HTMLParser
from unittest import mock
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.db import connection, transaction
from django.http import QueryDict
from django.test import override_settings
from django.utils import timezone

from approvals.tests.factories import new_customer, submitted
from portal.audit.export import history_models
from portal.db_operations import execute_prepared
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


@lru_cache(maxsize=1)
def _write_count_sql():
    tables = [m.history.model._meta.db_table for m in history_models()] + ["notifications_notification"]
    quote = connection.ops.quote_name
    return "SELECT " + " + ".join(f"(SELECT count(*) FROM {quote(t)})" for t in tables)


WRITE_COUNT = "hostile_walk_write_count"


def _write_count():
    """History rows and notifications, in one query: what any write leaves behind. On PostgreSQL
    the query is prepared once per connection: planning its ~60 counts took 3.5 ms of the
    server's CPU at each of the walk's ~1,700 counts, running it 0.5 ms (measured here)."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(_write_count_sql())
        else:
            execute_prepared(connection, cursor, WRITE_COUNT, _write_count_sql())
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


# Who opens what: every page is opened, and its query parameters made hostile, by every role that
# reaches it: B's compliance admin, officer and viewer on the vendor pages; DOC's reviewer,
# approver and agency administrator, the auditor and the portal administrator on the admin pages;
# all of them on the background-work and sign-in-and-security pages; someone signed out on the
# public pages. A page's forms are filled in by every role the page offers them to.
VENDOR_PREFIXES = ("/vendor/", "/notifications/")
SHARED_PREFIXES = ("/jobs/", "/accounts/")
PUBLIC_PAGES = ["/accounts/login/", "/accounts/password-reset/", "/vendor/apply/"]
SIGNED_IN_PAGES = ["/accounts/security/"]
VENDOR_ROLES = ["vendor", "vendor_officer", "vendor_viewer"]
ADMIN_ROLES = ["approver", "reviewer", "agency_admin", "auditor", "portal_admin"]
FORM_PREFIXES = ("/vendor/", "/notifications/", "/jobs/", "/accounts/", "/admin/")
# (dates out of range go into each filter form's date fields: see _hostile_gets)
GET_VALUES = ["99999999999999999999", "²"]
# each parameter a page reads or links to, alone (a year of 9999 has no next year)
ALONE_VALUES = ["99999999999999999999", "²", "9999"]


def _clients(walk_world):
    from django.test import Client

    world = walk_world.factory_world
    people = {role: walk_world.owners[role] for role in ("vendor", "approver", "reviewer", "auditor")}
    people |= {
        "vendor_officer": walk_world.b["officer"],
        "vendor_viewer": world["viewer"],
        "agency_admin": world["doc_admin"],
        "portal_admin": world["portal_admin"],
    }
    clients = {"anonymous": Client()}
    for role, person in people.items():
        clients[role] = Client()
        clients[role].force_login(person)
        # a first page, kept (every later request is rolled back): it moves the session's idle
        # deadline, which later pages then leave alone for a minute, as for anyone signed in
        clients[role].get("/accounts/security/")
    return clients


def _roles_for(url):
    if url in PUBLIC_PAGES:
        return ["anonymous"]
    if url.startswith(VENDOR_PREFIXES):
        return VENDOR_ROLES
    if url.startswith("/admin/"):
        return ADMIN_ROLES
    if url.startswith(SHARED_PREFIXES):
        return VENDOR_ROLES + ADMIN_ROLES
    return []  # the JSON API: tested by its schema (api/tests), not with forms


@contextmanager
def _parameters_read():
    """The names a view looks up in ``request.GET`` (or ``request.POST``) while it answers: the
    parameters it reads, whether or not its page offers them in a form or a link."""
    names = set()

    def recording(method):
        def read(self, key, *args, **kwargs):
            if isinstance(key, str):
                names.add(key)
            return method(self, key, *args, **kwargs)

        return read

    patches = [
        mock.patch.object(QueryDict, name, recording(getattr(QueryDict, name)))
        for name in ("__getitem__", "get", "getlist", "__contains__")
    ]
    for patch in patches:
        patch.start()
    try:
        yield names
    finally:
        for patch in reversed(patches):
            patch.stop()


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def _link_names(page, url):
    """The query parameters of the page's links to itself (the admin's filters, sorting, pages)."""
    path, names = urlsplit(url).path, set()
    for href in page.hrefs:
        parts = urlsplit(href)
        if parts.query and parts.path in ("", path):
            names |= {name for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
    return names


def _hostile_gets(client, url, names, page, alone=()):
    """Every parameter hostile at once, each of ``alone`` hostile by itself (an early refusal of
    one parameter must not hide what another would do), and each filter form with valid choices
    and its dates and numbers out of range."""
    problems = []
    queries = [(f"every parameter = {bad!r}", {name: bad for name in sorted(names)}) for bad in GET_VALUES]
    queries += [(f"{name} = {bad!r}", {name: bad}) for name in sorted(alone) for bad in ALONE_VALUES]
    for form in page.get_forms:
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
    return problems, len(queries)


def _hostile_posts(client, url, page):
    problems, posts = [], 0
    for form in page.post_forms:
        action = form["action"] or url
        path = urlsplit(action).path
        if (path and not path.startswith(FORM_PREFIXES)) or path.endswith("logout/"):
            continue  # sign-out and the like
        for label, data in submissions(form):
            posts += 1
            _response, problem = _attempt(client, "post", action, data)
            if problem:
                problems.append(f"POST {action} with {label}: {problem}")
    return problems, posts


def _page(client, url):
    """``(html or None, problem, names of the parameters the view read)``."""
    with _parameters_read() as read:
        response, problem = _attempt(client, "get", url)
    if response is None or response.status_code != 200 or getattr(response, "streaming", False):
        return None, problem, read
    return response.content.decode(errors="replace"), problem, read


def test_hostile_values_in_every_parameter_and_field_crash_nothing(hostile_world, db):
    clients = _clients(hostile_world)
    problems, seen, posts, gets = [], {role: 0 for role in clients}, dict.fromkeys(clients, 0), 0
    found = {"read": set(), "linked": set()}
    stops = _stops(hostile_world) + PUBLIC_PAGES + SIGNED_IN_PAGES
    for url in stops:
        if "/history/" in url:
            continue  # read-only pages without parameters: tests/test_history_pages.py opens every one
        alone_done = False
        for role in _roles_for(url):
            client = clients[role]
            html, problem, read = _page(client, url)
            problems += [f"{role}: GET {url} {problem}"] if problem else []
            if html is None:
                continue
            seen[role] += 1
            page = _read_page(html)
            linked = _link_names(page, url)
            found["read"] |= {(url, name) for name in read}
            found["linked"] |= {(url, name) for name in linked}
            names = set(COMMON_PARAMS) | read | linked
            for form in page.get_forms:
                names |= set(form)
            # each parameter alone once per page (by the first role it opens for), all at once by all
            alone = () if alone_done else read | linked
            alone_done = True
            found_problems, count = _hostile_gets(client, url, names, page, alone)
            problems += [f"{role}: {p}" for p in found_problems]
            gets += count
            found_problems, count = _hostile_posts(client, url, page)
            problems += [f"{role}: {p}" for p in found_problems]
            posts[role] += count
    print(f"pages by role {seen}; hostile GETs {gets}; POSTs by role {posts}")
    # the walk reaches pages as every role and fills in their forms ...
    assert seen["anonymous"] == len(PUBLIC_PAGES), seen
    assert all(seen[role] >= 10 for role in VENDOR_ROLES + ADMIN_ROLES), seen
    assert all(posts[role] > 0 for role in ("vendor", "vendor_officer", "approver", "reviewer")), posts
    assert sum(posts.values()) > 200, posts
    # ... and finds the parameters the pages read and link to, not only those of their forms
    assert ("/vendor/requests/new/", "frontier_model") in found["read"]
    assert ("/admin/accounts/signinevent/", "at__year") in found["linked"]
    assert not problems, f"{len(problems)} problems\n  " + "\n  ".join(problems[:60])


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


class _Page(HTMLParser):
    """A page read once (``_read_page``): its links' ``hrefs``, its ``get_forms`` (``_GetForms``)
    and its ``post_forms`` (``_Forms``, those with fields). Read once for the three instead of four
    times: the walk's user CPU 48.8 / 48.6 s before, 47.5 / 46.5 s after (alternated, -n0)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self._parsers = (_Links(), _GetForms(), _Forms())

    def handle_starttag(self, tag, attrs):
        for parser in self._parsers:
            parser.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        for parser in self._parsers:
            parser.handle_endtag(tag)

    def handle_data(self, data):
        for parser in self._parsers:
            parser.handle_data(data)

    def close(self):
        super().close()
        links, get_forms, post_forms = self._parsers
        self.hrefs, self.get_forms = links.hrefs, get_forms.forms
        self.post_forms = [form for form in post_forms.forms if form["fields"]]


def _read_page(html):
    page = _Page()
    page.feed(html)
    page.close()
    return page
