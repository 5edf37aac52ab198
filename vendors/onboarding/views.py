"""The public "apply as a vendor" page (issue 13): no account needed; a portal administrator reviews."""

from django import forms
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portal.errors import PortalError
from vendors.choices import COUNTRY_CHOICES
from vendors.forms import USWDSMixin
from vendors.onboarding import services


class ApplicationForm(USWDSMixin, forms.Form):
    legal_name = forms.CharField(label="Company's legal name", max_length=200)
    country = forms.ChoiceField(
        label="Country of incorporation", choices=[("", "- Select -"), *COUNTRY_CHOICES]
    )
    identifiers = forms.CharField(
        label="Identifiers",
        max_length=500,
        help_text="For example the UEI, EIN or company registration number.",
    )
    address = forms.CharField(label="Registered address", widget=forms.Textarea(attrs={"rows": 3}))
    admin_name = forms.CharField(label="First compliance admin: full name", max_length=200)
    admin_email = forms.EmailField(
        label="First compliance admin: e-mail address",
        help_text="If the application is approved, this person is invited by mail to set a password.",
    )
    attestation = forms.BooleanField(
        label="I am authorised to apply for this company, and what I entered is true and complete "
        "(false statements may be punishable under 18 U.S.C. 1001).",
    )


@require_http_methods(["GET", "POST"])
def apply(request):
    form = ApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_application(**form.cleaned_data)
        except PortalError as error:
            error.add_to_form(form)
        else:
            return redirect("vendors:apply_sent")
    return render(request, "vendors/apply.html", {"form": form})


def apply_sent(request):
    return render(request, "vendors/apply_sent.html")
