"""The image's static files serve every main page in production mode.

The static files are built by ``scripts/build_static``, the very step the Dockerfile runs,
into a throwaway directory; the pages are then rendered with production's storage (the
manifest of hashed names, strict: a missing entry is a 500) and every asset a page or a
stylesheet refers to is fetched.
"""

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from django.apps import apps
from django.core.management import call_command

from portal.accounts.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
ASSET = re.compile(r"""(?:src|href)=["'](/static/[^"'#?]+)""")
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)""")


@pytest.fixture(scope="module")
def built_static(tmp_path_factory):
    static_root = tmp_path_factory.mktemp("staticfiles")
    environment = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY", "PORTAL_ENV"}
    }
    environment.update(
        STATIC_ROOT=str(static_root),
        PORTAL_VAR_DIR=str(tmp_path_factory.mktemp("var")),
        PYTHON=sys.executable,
    )
    result = subprocess.run(
        [str(ROOT / "scripts" / "build_static")],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (static_root / "staticfiles.json").exists(), "no manifest: not collected in production mode"
    return static_root


@pytest.fixture
def production_static(settings, built_static):
    settings.DEBUG = False
    settings.STATIC_ROOT = built_static
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.WHITENOISE_AUTOREFRESH = False
    return built_static


def assets_of(client, html, seen):
    """Every /static/ address the page refers to, and what the stylesheets refer to in turn."""
    missing = []
    queue = [path for path in ASSET.findall(html)]
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200:
            missing.append(f"{path} → {response.status_code}")
            continue
        if path.endswith(".css"):
            body = b"".join(response.streaming_content).decode("utf-8", "replace")
            for ref in CSS_URL.findall(body):
                if ref.startswith("data:") or ref.startswith("#"):
                    continue
                queue.append(urlparse(urljoin(path, ref)).path)
    return missing


def main_pages():
    AccessRequest = apps.get_model("approvals", "AccessRequest")
    decided = (
        AccessRequest.objects.filter(status="approved", vendor__organisation__name="Aurora Labs")
        .exclude(tracking_number=None)
        .order_by("pk")
        .first()
    )
    assert decided is not None, "the demo world has an approved request of Aurora Labs"
    ref, pk = decided.tracking_number, decided.pk
    return [
        (None, "/accounts/login/"),
        ("compliance@aurora.example", "/vendor/"),
        ("compliance@aurora.example", f"/vendor/requests/{ref}/"),
        ("compliance@aurora.example", f"/vendor/requests/{ref}/letter/"),
        ("approver@doc.example", "/admin/"),
        ("approver@doc.example", f"/admin/approvals/accessrequest/{pk}/change/"),
        ("approver@doc.example", f"/admin/approvals/accessrequest/{pk}/letter/"),
        # Swagger UI's files are collected; ReDoc's and the browsable API's are left out
        ("compliance@aurora.example", "/api/docs/"),
    ]


@pytest.mark.django_db
def test_every_main_page_renders_with_the_built_static_files(client, production_static):
    # given the demo world and the static files as the image builds them
    call_command("seed_demo", verbosity=0)
    problems, seen, pages = [], set(), 0
    for email, path in main_pages():
        client.logout()
        if email:
            assert client.login(username=email, password=DEMO_PASSWORD), email
        # when the page is rendered with production's manifest storage
        response = client.get(path)
        # then it answers 200 and every asset it names is served
        if response.status_code != 200:
            problems.append(f"{path} as {email}: {response.status_code}")
            continue
        pages += 1
        html = response.content.decode()
        assert "/static/" in html, path
        problems += [f"{path}: {m}" for m in assets_of(client, html, seen)]
    assert problems == []
    assert pages == 8
    # the stylesheet's fonts and images were followed too, and they carry hashed names
    assert any(p.endswith(".woff2") for p in seen), sorted(seen)
    assert all(re.search(r"\.[0-9a-f]{12}\.", p) for p in seen), sorted(seen)


def test_the_build_compresses_what_browsers_fetch_and_not_the_source_maps(built_static):
    stylesheet = next(built_static.glob("uswds/css/uswds.min.*.css"))
    assert Path(f"{stylesheet}.br").exists()
    assert Path(f"{stylesheet}.gz").exists()
    maps = list(built_static.rglob("*.map"))
    assert maps, "the source maps are collected (a script names its map)"
    assert not [p for p in built_static.rglob("*.map.*") if p.suffix in {".br", ".gz"}]


@pytest.mark.django_db
def test_a_file_missing_from_the_manifest_is_a_server_error(client, production_static):
    """The check above can fail: a page naming a file the build did not collect is a 500."""
    from django.template import engines

    template = engines["django"].from_string("{% load static %}{% static 'portal/not-there.css' %}")
    with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
        template.render({})
