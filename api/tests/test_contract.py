"""Contract tests: the committed schema (docs/openapi.yaml) is what the code generates, and
schemathesis drives every operation in it against the application: no 500, only documented status
codes and content types, bodies that match their schemas."""

from pathlib import Path

import pytest
import schemathesis
import yaml
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.tests.conftest import make_token

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
schema = schemathesis.openapi.from_dict(yaml.safe_load(SCHEMA_FILE.read_text()))
application = get_wsgi_application()


def test_the_committed_schema_is_current():
    generated = SchemaGenerator().get_schema(request=None, public=True)
    text = OpenApiYamlRenderer().render(generated, renderer_context={}).decode()
    assert text == SCHEMA_FILE.read_text(), (
        "The API changed without docs/openapi.yaml: run "
        "`python manage.py spectacular --file docs/openapi.yaml` and commit the file."
    )


@pytest.fixture(scope="module")
def token_headers(django_db_setup, django_db_blocker):
    """A vendor with a grant and a read-write token, built once for the module inside a
    transaction that is rolled back at its end (each operation's test runs in a savepoint)."""
    from django.db import transaction
    from django.test import override_settings

    from approvals.tests.enforcement_helpers import approved
    from approvals.tests.factories import build_world

    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            world = build_world()
            approved(world)
            _, secret = make_token(world)
            yield {"Authorization": f"Bearer {secret}"}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's test client does: the WSGI calls must not close the test's database connection
    at the end of each request (it holds the test's transaction)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_answers_within_its_contract(case, token_headers, db):
    response = case.call(app=application, headers=token_headers)
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
