"""The vendor's letters: the page and the PDF, by reference, as they were issued."""

from django.http import Http404
from django.shortcuts import render

from approvals import selectors
from approvals.letter_downloads import letter_pdf_response
from vendors.views import vendor_member_required


def _letter(request, reference):
    """A letter of this vendor on something the user may read (the selector filters), else 404."""
    letters = selectors.letters_visible_to(request.user).filter(vendor=request.vendor)
    letter = letters.filter(reference=reference).first()
    if letter is None:
        raise Http404("No such letter.")
    return letter


@vendor_member_required
def letter_page(request, reference):
    letter = _letter(request, reference)
    context = {"letter": letter, "access_request": letter.access_request}
    return render(request, "approvals/letter.html", context)


@vendor_member_required
def letter_pdf(request, reference):
    letter = _letter(request, reference)
    return letter_pdf_response(letter)
