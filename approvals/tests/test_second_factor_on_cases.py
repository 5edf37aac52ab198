"""The second factor asked again before an official signs (issue 13): the position page signs
too ("Sign as final"), so it asks as the sign page does."""

import pytest

from portal.tests.mfa_helpers import verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mfa_on(settings):
    settings.PORTAL_REQUIRE_MFA = True


def test_signing_from_the_position_page_asks_for_the_code_again_too(client, settings, world):
    from approvals.models import Position
    from approvals.tests.factories import refresh, submitted

    # given an approver who may draft and sign on one page, verified a while ago
    access_request = submitted(world)
    approver = world["doc_approver"]
    url = f"/admin/approvals/accessrequest/{access_request.pk}/position/"
    verified_login(client, approver, verified_seconds_ago=settings.PORTAL_MFA_REAUTH_SECONDS + 60)
    # when they open the position page, or send "Sign as final" from a page opened before
    opened = client.get(url)
    signed = client.post(
        url, {"version": refresh(access_request).version, "stance": "concur", "rationale": "", "sign": "1"}
    )
    # then the code is asked first, and nothing is signed
    assert opened["Location"].startswith("/accounts/second-factor/?next=")
    assert signed["Location"].startswith("/accounts/second-factor/?next=")
    assert not Position.objects.filter(referral__access_request=access_request).exists()
    # (a reviewer, who cannot sign, drafts without being asked)
    verified_login(
        client, world["doc_reviewer"], verified_seconds_ago=settings.PORTAL_MFA_REAUTH_SECONDS + 60
    )
    assert client.get(url).status_code in {200, 404}
