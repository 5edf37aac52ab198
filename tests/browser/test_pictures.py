"""The journeys' pictures: kept for people reviewing a change, skipped under CI (``PICTURES``)."""

from tests.browser import conftest


class _Page:
    """What ``screenshot`` asks of a page (the browser's own picture-taking is not the subject)."""

    def __init__(self):
        self.pictures = []

    def screenshot(self, path, full_page):
        self.pictures.append((path, full_page))


def test_a_picture_is_taken_when_pictures_are_kept(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "PICTURES", True)
    monkeypatch.setattr(conftest, "ARTIFACTS", tmp_path / "artifacts")
    page = _Page()
    conftest.screenshot(page, "case-approved")
    assert page.pictures == [(str(tmp_path / "artifacts" / "case-approved.png"), True)]


def test_no_picture_is_taken_when_they_are_not_kept(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "PICTURES", False)
    monkeypatch.setattr(conftest, "ARTIFACTS", tmp_path / "artifacts")
    page = _Page()
    conftest.screenshot(page, "case-approved")
    assert page.pictures == []
    assert not (tmp_path / "artifacts").exists()
