"""``scripts/bench``: how the portal's time grows with rows, as ratios with their goals.

One process. Two databases built once by ``seed_demo --scale N`` (``<name>_bench_<N>`` beside
``DATABASE_URL``'s database; kept and reused) are both connected; every sample alternates
between them, so that a machine busy with other work slows both sides alike. Server time is
the time Django takes to answer the request in-process (middleware, queries, templates).

Each comparison is one entry of ``COMPARISONS``: a name, a goal, and a function returning the
two callables to time. Others add theirs there (the entitlement check, notifications).
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ["DEBUG"] = "false"
os.environ.setdefault("CI", "true")

PAGE_GOAL_RATIO = 1.3
PAGE_GOAL_MS = 300
GUARD_GOAL_RATIO = 1.2
SUSPENSION_GOAL_RATIO = 2.0
SUSPENSION_GRANTS = 10_000


def database_url(base, scale):
    parts = urlsplit(base)
    name = parts.path.lstrip("/") or "portal"
    return urlunsplit(parts._replace(path=f"/{name}_bench_{scale}"))


def ensure_database(url, scale):
    """Create, migrate and seed ``url`` with ``scale`` requests unless it already holds them."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(url) as conn:
        ready = (
            conn.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_name = 'approvals_accessrequest'"
            ).fetchone()
            and conn.execute(
                "SELECT count(*) FROM approvals_accessrequest WHERE tracking_number LIKE 'FAR-2024-%%'"
            ).fetchone()[0]
        )
    env = {**os.environ, "DATABASE_URL": url}
    if ready:  # kept from an earlier run: bring its schema up to date (indexes, columns)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        return
    print(f"Building {name}: migrate, then seed_demo --scale {scale} (once; kept for later runs) ...")
    started = time.monotonic()
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--scale", str(scale)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"  built in {time.monotonic() - started:.0f} s")


class Worlds:
    """Both databases connected at once; ``use(side)`` makes one of them Django's default."""

    def __init__(self, small_url, large_url):
        import environ
        from django.conf import settings
        from django.db import connections

        self.connections = connections
        self.wrappers = {}
        for side, url in (("small", small_url), ("large", large_url)):
            config = {**connections["default"].settings_dict, **environ.Env.db_url_config(url)}
            config.update(ATOMIC_REQUESTS=False, CONN_MAX_AGE=None, CONN_HEALTH_CHECKS=False)
            settings.DATABASES[f"bench_{side}"] = config
            self.wrappers[side] = connections[f"bench_{side}"]
        self.side = None

    def use(self, side):
        if side != self.side:
            self.connections["default"] = self.wrappers[side]
            self.side = side


@dataclass
class Comparison:
    name: str
    goal: str
    check: Callable[[float, float, float], bool]
    build: Callable  # (worlds, options) -> (label_a, callable_a, side_a, label_b, callable_b, side_b)


COMPARISONS = []


def comparison(name, goal, check):
    def register(build):
        COMPARISONS.append(Comparison(name, goal, check, build))
        return build

    return register


def page_check(ratio, a_ms, b_ms):
    return ratio <= PAGE_GOAL_RATIO and b_ms < PAGE_GOAL_MS


def page(worlds, email, url_for):
    """Two callables that GET the page as ``email``, one per database (each its own session)."""
    from django.test import Client

    from portal.accounts.models import User

    calls = {}
    for side in ("small", "large"):
        worlds.use(side)
        client = Client()
        client.force_login(User.objects.get(email=email))
        url = url_for()

        def get(client=client, url=url):
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")

        calls[side] = get
    return calls["small"], calls["large"]


def _newest_case():
    from approvals.models import AccessRequest

    pk = (
        AccessRequest.objects.filter(
            status=AccessRequest.Status.IN_REVIEW, tracking_number__startswith="FAR-2024-"
        )
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return f"/admin/approvals/accessrequest/{pk}/change/"


PAGES = [
    ("agency dashboard (approver@doc)", "approver@doc.example", lambda: "/admin/"),
    ("access-request changelist", "approver@doc.example", lambda: "/admin/approvals/accessrequest/"),
    ("referral changelist", "approver@doc.example", lambda: "/admin/approvals/referral/"),
    ("case page", "approver@doc.example", _newest_case),
    ("vendor request list (Basalt)", "compliance@basalt.example", lambda: "/vendor/requests/"),
]


def _page_comparison(label, email, url_for):
    def build(worlds, options):
        small, large = page(worlds, email, url_for)
        return (f"{options.small_label}", small, "small", f"{options.large_label}", large, "large")

    return build


for _label, _email, _url in PAGES:
    comparison(f"{_label}: large ÷ small", f"≤ {PAGE_GOAL_RATIO} and < {PAGE_GOAL_MS} ms", page_check)(
        _page_comparison(_label, _email, _url)
    )


@comparison(
    "guarded vendor list ÷ plain vendor filter",
    f"≤ {GUARD_GOAL_RATIO}",
    lambda ratio, a_ms, b_ms: ratio <= GUARD_GOAL_RATIO,
)
def guarded_list(worlds, options):
    """The vendor's first page of requests and its length as the page reads them (through the
    permissions helper; the length from the counts kept per vendor and status), against the same
    page filtered by ``vendor=`` alone and counted (large database)."""
    from approvals.models import AccessRequest
    from approvals.selectors import status_counts, vendor_requests
    from portal.accounts.models import User

    worlds.use("large")
    user = User.objects.get(email="compliance@basalt.example")
    vendor_id = user.organisation.vendor.pk

    def guarded():
        queryset = vendor_requests(user)
        list(queryset[:50])
        sum(status_counts(user).values())

    def plain():
        queryset = (
            AccessRequest.objects.select_related("vendor", "frontier_model", "partner_customer")
            .filter(vendor_id=vendor_id)
            .order_by("-submitted_at", "-created_at", "-pk")
        )
        list(queryset[:50])
        queryset.count()

    return ("plain", plain, "large", "guarded", guarded, "large")


class _Rollback(Exception):
    pass


def _rolled_back(work):
    from django.db import transaction

    def run():
        started = time.perf_counter()
        try:
            with transaction.atomic():
                work()
                elapsed = time.perf_counter() - started
                raise _Rollback
        except _Rollback:
            return elapsed

    return run


@comparison(
    f"suspension of {SUSPENSION_GRANTS:,} grants ÷ bare UPDATE + history INSERT",
    f"≤ {SUSPENSION_GOAL_RATIO}",
    lambda r, a, b: r <= SUSPENSION_GOAL_RATIO,
)
def suspension(worlds, options):
    """``suspend_model`` on the scale world's busiest model, rolled back (its transaction: the
    model, the grants and their history, the requests held, the action and its notice; the
    follow-through that runs after its commit is timed apart and printed), against one
    ``UPDATE … RETURNING`` of its active grants and one ``INSERT … SELECT`` of their history."""
    from django.db import connection

    from approvals import services
    from approvals.demo.scale import SCALE_MODEL
    from approvals.models import Grant
    from portal.accounts.models import User
    from vendors.models import FrontierModel

    worlds.use("large")
    name, version = SCALE_MODEL
    model = FrontierModel.objects.get(name=name, version=version)
    actor = User.objects.get(email="approver@doc.example")
    active = list(
        Grant.objects.filter(frontier_model=model, status=Grant.Status.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)[SUSPENSION_GRANTS:]
    )
    if active:  # exactly SUSPENSION_GRANTS active grants: expire the rest of them for good
        Grant.objects.filter(pk__in=active).update(status=Grant.Status.EXPIRED)
    count = Grant.objects.filter(frontier_model=model, status=Grant.Status.ACTIVE).count()
    history = Grant.history.model._meta.db_table
    columns = ", ".join(f.column for f in Grant.history.model.tracked_fields)

    def service():
        services.suspend_model(
            frontier_model=FrontierModel.objects.get(pk=model.pk),
            actor=actor,
            legal_basis="Benchmark (rolled back).",
            findings="Benchmark (rolled back).",
        )

    def bare():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE approvals_grant SET status = 'suspended', status_changed_at = now(), "
                "status_reason = 'Benchmark' WHERE frontier_model_id = %s AND status = 'active' "
                "RETURNING id",
                [model.pk],
            )
            pks = [row[0] for row in cursor.fetchall()]
            cursor.execute(
                f"INSERT INTO {history} ({columns}, history_date, history_change_reason, "  # noqa: S608
                "history_type, history_user_id, history_request_id, history_prev_hash, history_hash) "
                f"SELECT {columns}, now(), 'Benchmark', '~', %s, '', '', '' FROM approvals_grant "
                "WHERE id = ANY(%s)",
                [actor.pk, pks],
            )

    def follow_through():  # what runs once the suspension commits, timed apart (once)
        action = services.suspend_model(
            frontier_model=FrontierModel.objects.get(pk=model.pk),
            actor=actor,
            legal_basis="Benchmark (rolled back).",
            findings="Benchmark (rolled back).",
        )
        started = time.perf_counter()
        services.follow_through_suspension(action.pk)
        followed.append(time.perf_counter() - started)

    followed = []
    _rolled_back(follow_through)()
    print(
        f"  ({count:,} active grants on {model}; the suspension's follow-through after its commit, "
        f"not in the ratio: the notice's PDF, the attestations and the mail, {followed[0] * 1000:,.0f} ms)"
    )
    return ("bare SQL", _rolled_back(bare), "large", "suspend_model", _rolled_back(service), "large")


NOTIFICATIONS = 1_000
NOTIFICATION_GOAL_RATIO = 2.0  # at least 50 % of plain smtplib's rate: time at most twice its


class _Sink:
    """A local SMTP server that accepts and drops every message (aiosmtpd), for both sides."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        class Handler:
            received = 0

            async def handle_DATA(self, server, session, envelope):
                Handler.received += 1
                return "250 OK"

        with socket.socket() as probe:  # a free port (the controller checks it by connecting)
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.handler = Handler
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()


@comparison(
    f"{NOTIFICATIONS:,} notifications: worker ÷ plain smtplib",
    "≤ 2.0 (≥ 50 % of its rate)",
    lambda r, a, b: r <= NOTIFICATION_GOAL_RATIO,
)
def notifications(worlds, options):
    """The outbox worker's batch task (claim a batch, one SMTP session, mark sent) over
    ``NOTIFICATIONS`` pending rows, against one ``smtplib`` connection sending the same number
    of already-built messages, both to the same local sink. Writing the rows and removing them
    afterwards is not timed (it is the committing request's and the retention's work)."""
    import smtplib

    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives

    from portal.accounts.models import User
    from portal.notifications import sending, tasks
    from portal.notifications.models import Notification

    sink = _Sink()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    worlds.use("small")
    recipient = User.objects.get(email="approver@doc.example")
    body = "A new referral for DOC: FAR-2024-000001.\n\nOpen it: https://portal.example/admin/\n" * 3
    html = f"<p>{body}</p>"
    run = iter(range(10**6))

    def worker():
        batch = next(run)
        rows = Notification.objects.bulk_create(
            [
                Notification(
                    recipient=recipient,
                    event="referral_received",
                    subject=f"New referral for DOC: FAR-2024-{n:06d}",
                    body=body,
                    html_body=html,
                    link="/admin/",
                    idempotency_key=f"bench-{os.getpid()}-{batch}-{n}",
                )
                for n in range(NOTIFICATIONS)
            ]
        )
        ids = [row.pk for row in rows]
        size = sending.batch_size()
        started = time.perf_counter()
        for at in range(0, len(ids), size):
            tasks.send_batch.run(ids[at : at + size])
        elapsed = time.perf_counter() - started
        sent = Notification.objects.filter(pk__in=ids, status=Notification.Status.SENT).count()
        Notification.objects.filter(pk__in=ids).delete()
        if sent != NOTIFICATIONS:
            raise SystemExit(f"the worker sent {sent} of {NOTIFICATIONS} notifications")
        return elapsed

    messages = [
        EmailMultiAlternatives(
            f"New referral for DOC: FAR-2024-{n:06d}", body, settings.DEFAULT_FROM_EMAIL, [recipient.email]
        )
        for n in range(NOTIFICATIONS)
    ]
    for message in messages:
        message.attach_alternative(html, "text/html")
    raw = [(m.from_email, m.recipients(), m.message().as_bytes(linesep="\r\n")) for m in messages]

    def plain():
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
            for sender, recipients, data in raw:
                smtp.sendmail(sender, recipients, data)
        return time.perf_counter() - started

    print(f"  (to a local aiosmtpd sink; batches of {sending.batch_size()})")
    return ("smtplib", plain, "small", "worker", worker, "small")


ENTITLEMENT_GOAL_RATIO = 1.3


@comparison(
    "entitlement check: large ÷ small",
    f"≤ {ENTITLEMENT_GOAL_RATIO} and < {PAGE_GOAL_MS} ms",
    page_check,
)
def entitlement_check(worlds, options):
    """``GET /api/v1/entitlements/`` in-process with a read token, for a customer cleared for
    the scale world's busiest model, at both sizes (the API's throughput against a bare view
    under gunicorn is ``scripts/bench_entitlement.py``'s)."""
    from django.test import Client

    from api import services as api_services
    from approvals.demo.scale import newest_cleared_grant
    from portal.accounts.models import User

    calls = {}
    for side in ("small", "large"):
        worlds.use(side)
        grant = newest_cleared_grant()
        admin = User.objects.get(email="compliance@aurora.example")
        _, secret = api_services.create_api_token(
            vendor=grant.vendor, actor=admin, name=f"bench {time.time():.0f}", scope="read", expires_in_days=1
        )
        url = f"/api/v1/entitlements/?model={grant.frontier_model_id}&customer={grant.partner_customer_id}"
        client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

        def get(client=client, url=url):
            response = client.get(url)
            if response.status_code != 200 or not response.json().get("cleared"):
                raise SystemExit(f"{url} answered {response.status_code}: {response.content[:200]!r}")

        calls[side] = get
    return (options.small_label, calls["small"], "small", options.large_label, calls["large"], "large")


# -- add further comparisons above this line --


def measure(worlds, call, side):
    worlds.use(side)
    started = time.perf_counter()
    result = call()
    elapsed = time.perf_counter() - started
    return result if isinstance(result, float) else elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 against 20,000 (CI-sized machines)")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=None)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", default="", help="only comparisons whose name contains this")
    options = parser.parse_args()
    options.large = options.large or (20_000 if options.quick else 100_000)
    options.runs = max(5, options.runs)
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        raise SystemExit("scripts/bench needs DATABASE_URL=postgres://… (it measures PostgreSQL).")
    small_url, large_url = database_url(base, options.small), database_url(base, options.large)
    ensure_database(small_url, options.small)
    ensure_database(large_url, options.large)
    options.small_label = f"{options.small // 1000}k"
    options.large_label = f"{options.large // 1000}k"

    import django

    django.setup()
    import logging

    from django.conf import settings

    logging.disable(logging.INFO)  # the sink's and sign-ins' log lines would bury the ratios
    settings.PORTAL_REQUIRE_MFA = False  # force_login stands for a verified sign-in, as in the tests
    worlds = Worlds(small_url, large_url)
    server = worlds.wrappers["large"].cursor().connection.info.server_version
    print(
        f"scripts/bench: {options.small:,} vs {options.large:,} requests, medians of {options.runs}, "
        f"{os.cpu_count()} CPUs, PostgreSQL {server}"
    )
    failures = 0
    for item in COMPARISONS:
        if options.only and options.only not in item.name:
            continue
        label_a, call_a, side_a, label_b, call_b, side_b = item.build(worlds, options)
        for _ in range(2):  # warm caches and connections on both sides
            measure(worlds, call_a, side_a)
            measure(worlds, call_b, side_b)
        times_a, times_b = [], []
        for _ in range(options.runs):
            times_a.append(measure(worlds, call_a, side_a))
            times_b.append(measure(worlds, call_b, side_b))
        a_ms = statistics.median(times_a) * 1000
        b_ms = statistics.median(times_b) * 1000
        ratio = b_ms / a_ms if a_ms else float("inf")
        ok = item.check(ratio, a_ms, b_ms)
        failures += not ok
        print(
            f"{item.name.replace('large', options.large_label).replace('small', options.small_label):<62} "
            f"{label_a} {a_ms:8.1f} ms  {label_b} {b_ms:8.1f} ms  ratio {ratio:5.2f}  "
            f"goal {item.goal:<22} {'ok' if ok else 'MISSED'}"
        )
    print(f"{failures} of the goals missed." if failures else "Every goal met.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
