"""Steps shared by the journeys: look at a page, remember its addresses, try them as an outsider."""

from urllib.parse import urlsplit

from portal.tests.factories import PASSWORD
from tests.browser.conftest import assert_accessible, pass_second_factor, screenshot, sign_in

ADDRESSES_JS = """() => ({
  url: location.href,
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  posts: [...document.querySelectorAll('form')]
    .filter(f => (f.getAttribute('method') || 'get').toLowerCase() === 'post')
    .map(f => f.action),
})"""


def names_an_object(path):
    """An address of one record (``/vendor/models/12/``, ``/vendor/requests/FAR-2026-000001/``)
    or anything in the agency dashboard; lists, forms for new records and sign-in pages are not."""
    if path.startswith("/admin/"):
        return True
    if not path.startswith(("/vendor/", "/notifications/")):
        return False
    return any(part.isdigit() or part.startswith("FAR-") for part in path.split("/"))


class AddressBook:
    """Every address a journey's pages showed: where they went, what they linked to, where their
    forms post. Journey 5 tries each of them as a member of another vendor."""

    def __init__(self, base_url):
        self.origin = urlsplit(base_url).netloc
        self.gets = set()
        self.posts = set()

    def _local(self, url):
        parts = urlsplit(url)
        if parts.netloc != self.origin or not names_an_object(parts.path):
            return None
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def record(self, page):
        seen = page.evaluate(ADDRESSES_JS)
        for url in [seen["url"], *seen["links"]]:
            if path := self._local(url):
                self.gets.add(path)
        for url in seen["posts"]:
            if path := self._local(url):
                self.posts.add(path)


def look(page, name, addresses=None, *, picture=False):
    """What a person does on arriving at a page: it must be accessible (axe-core, WCAG 2.1 AA, no
    serious or critical violation); its addresses are noted; ``picture`` keeps a screenshot."""
    page.wait_for_load_state("load")
    assert_accessible(page, name)
    if addresses is not None:
        addresses.record(page)
    if picture:
        screenshot(page, name)


def signed_in(open_page, user, label, *, lands_on):
    """A new browser for ``user``, signed in through the sign-in page."""
    page = open_page(label)
    sign_in(page, user.email, PASSWORD)
    page.wait_for_url(f"**{lands_on}")
    return page


def another_vendor_gets_404_everywhere(open_page, outsider, addresses):
    """Journey 5: a member of another vendor opens every address of the journey and posts to every
    form it had. Each answers 404: nothing of another vendor exists for them, not even a 403. The
    agency dashboard's front door (``/admin/`` and its sign-out) is the one exception: it sends a
    vendor member to their own dashboard, and nothing of the case is in that answer."""
    page = signed_in(open_page, outsider, "outsider", lands_on="/vendor/")
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    assert addresses.gets, "the journey recorded no address to try"
    wrong = []

    def sent_home(path, response):
        return path in ("/admin/", "/admin/logout/") and response.url.endswith("/vendor/")

    for path in sorted(addresses.gets):
        response = page.request.get(path)
        if response.status != 404 and not sent_home(path, response):
            wrong.append(f"GET {path} -> {response.status} {response.url}")
    for path in sorted(addresses.posts):
        response = page.request.post(
            path, form={"csrfmiddlewaretoken": csrf}, headers={"X-CSRFToken": csrf, "Referer": page.url}
        )
        if response.status != 404 and not sent_home(path, response):
            wrong.append(f"POST {path} -> {response.status} {response.url}")
    if wrong:  # show the first one in the failure screenshot
        page.goto(wrong[0].split()[1])
    assert not wrong, f"{len(wrong)} of {len(addresses.gets) + len(addresses.posts)} answered:\n" + "\n".join(
        wrong
    )
    # The 404 page itself is a page people meet: it must be accessible too.
    response = page.goto(next(p for p in sorted(addresses.gets) if not p.startswith("/admin/")))
    assert response.status == 404
    look(page, "not-found")
    return len(addresses.gets), len(addresses.posts)


FIELD_ERRORS_JS = """() => [...document.querySelectorAll('form [aria-invalid=true]')].map(field => {
  const group = field.closest('.usa-form-group, .form-row');
  const message = group && group.querySelector('.usa-error-message, .errorlist');
  const describedBy = (field.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
  return {
    name: field.name || field.dataset.field || '',
    message: message ? message.textContent.trim() : '',
    role: message ? message.getAttribute('role') : null,
    described: !!message && describedBy.some(id => {
      const el = document.getElementById(id);
      return el && (el === message || message.contains(el));
    }),
    hintOnly: describedBy.length === 1 && describedBy[0].endsWith('-hint'),
  };
})"""


def field_errors(page):
    """Each field marked invalid on the page, with the error shown in its form group, whether it
    is announced (``role=alert``) and whether the field points to it (``aria-describedby``)."""
    return {e["name"]: e for e in page.evaluate(FIELD_ERRORS_JS)}


def assert_errors_next_to_fields(page, names):
    """Exactly ``names`` are marked invalid, each with its message beside it, announced
    (``role=alert``) and referenced by the field's ``aria-describedby``."""
    errors = field_errors(page)
    assert set(errors) == set(names), f"fields marked invalid: {sorted(errors)}, expected {sorted(names)}"
    for name, error in errors.items():
        assert error["message"], f"{name}: no error message in the field's group"
        assert error["role"] == "alert", f"{name}: the error “{error['message']}” is not announced"
        assert error["described"], f"{name}: aria-describedby misses the error"
    return errors


def file_input(page, label):
    """The file input that the visible ``label`` names. USWDS's file-input script replaces the
    input's accessible name with its drop-zone instructions, so ``get_by_label`` cannot find it."""
    for_id = page.locator("label", has_text=label).first.get_attribute("for")
    return page.locator(f"[id='{for_id}']")


def follow_link(page, user, url):
    """Open ``url`` from a mail; a browser that is not signed in goes through the sign-in page
    and comes back to the address of the link."""
    path = urlsplit(url).path
    page.goto(url)
    if urlsplit(page.url).path == "/accounts/login/":
        page.get_by_label("E-mail address").fill(user.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        pass_second_factor(page, user.email)
    page.wait_for_url(f"**{path}")
    return page


def focused(page):
    """What has the keyboard focus: its name attribute (a search combo box's ``data-field``), or its
    text for a button or link."""
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return e ? (e.getAttribute('name') || e.dataset.field || e.textContent.trim()) : null; }"
    )


def tab_to(page, name, *, limit=60):
    """Press Tab from where the focus is until ``name`` has it, as a keyboard user does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page) == name:
            return
    raise AssertionError(f"{name!r} never got the focus in {limit} presses of Tab")


def tab(page, expected):
    """One press of Tab, which must move the focus to ``expected`` (the tab order is the order
    of the form)."""
    page.keyboard.press("Tab")
    assert focused(page) == expected, f"Tab went to {focused(page)!r}, not {expected!r}"


def assert_admin_errors_next_to_fields(page, names):
    """The agency forms (admin): exactly ``names`` are marked invalid, each with its message in the
    field's row. Not checked here, and reported: the admin forms of the review
    (``approvals/templates/admin/approvals/action.html``, ``position.html``) neither announce the
    errors (no ``role=alert``) nor point the field to them (``aria-describedby``)."""
    errors = field_errors(page)
    assert set(errors) == set(names), f"fields marked invalid: {sorted(errors)}, expected {sorted(names)}"
    for name, error in errors.items():
        assert error["message"], f"{name}: no error message in the field's row"
    return errors


def submit(page, button, *, within=None):
    """Press the form's button and wait for the answer page (for a submission that stays put)."""
    with page.expect_navigation():
        (within or page).get_by_role("button", name=button).click()
