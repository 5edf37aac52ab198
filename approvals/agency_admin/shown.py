"""The records a confirmation page showed, carried in its form: ``{kind: ids}``, signed.

Ids are stored as runs (``[first, last]``), so ten thousand grants made together cost a few bytes;
the signature keeps the value as the page wrote it. The service compares the sets with what it
would take now (``services.confirmation.require_same_records``).
"""

from django.core import signing

from portal.errors import PortalError

SALT = "approvals.confirmation.shown"


def _runs(ids):
    runs = []
    for pk in sorted(set(ids)):
        if runs and runs[-1][1] == pk - 1:
            runs[-1][1] = pk
        else:
            runs.append([pk, pk])
    return runs


def encode(sets):
    """The hidden field's value for ``{kind: ids}``."""
    return signing.dumps({kind: _runs(ids) for kind, ids in sets.items()}, salt=SALT, compress=True)


def decode(value):
    """``{kind: set of ids}`` from a hidden field's value; ``None`` when the form carried none."""
    if not value:
        return None
    try:
        data = signing.loads(value, salt=SALT)
        return {
            kind: {pk for first, last in runs for pk in range(first, last + 1)} for kind, runs in data.items()
        }
    except (signing.BadSignature, ValueError, TypeError, AttributeError):
        raise PortalError(
            "Nothing was done: the list of records this page showed could not be read. "
            "Read the records below and confirm again."
        ) from None
