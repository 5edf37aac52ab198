"""Forms of release phases and enforcement: parse what was typed; the services decide."""

from django import forms

from approvals.enforcement import incident_report_days
from approvals.models import IncidentReport, ReviewFinding
from vendors.forms import USWDSMixin
from vendors.models import PartnerCustomer

_TEXT = {"rows": 4, "cols": 80}


class BasisForm(forms.Form):
    """Every enforcement action: its legal basis and its findings."""

    legal_basis = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="The statute, order or regulation the action rests on, with the section.",
    )
    findings = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text="What was found. The vendor reads it, with the legal basis, in its notice.",
    )


class SuspendForm(BasisForm):
    expected_grants = forms.IntegerField(widget=forms.HiddenInput, required=False)
    expected_requests = forms.IntegerField(widget=forms.HiddenInput, required=False)


class LiftForm(BasisForm):
    expected_grants = forms.IntegerField(widget=forms.HiddenInput, required=False)


class DesignateForm(BasisForm):
    expected_requests = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ClearanceForm(forms.Form):
    basis = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text="The basis for the decision, drawn from the findings. The vendor reads it.",
    )


class ClearPreviewForm(ClearanceForm):
    preview_customer_cap = forms.IntegerField(
        label="Cap on partner customers",
        min_value=1,
        required=False,
        help_text="The most partner customers that may be cleared in limited preview. Empty: no cap.",
    )


class FindingForm(forms.Form):
    text = forms.CharField(label="Finding", widget=forms.Textarea(attrs={"rows": 6, "cols": 80}))
    recommendation = forms.ChoiceField(choices=ReviewFinding.Recommendation.choices)


# ---------------------------------------------------------------------------------------------
# Vendor side


class PrereleaseSubmitForm(USWDSMixin, forms.Form):
    summary = forms.CharField(
        label="Summary of the evidence",
        widget=forms.Textarea(attrs=_TEXT),
        help_text="What was evaluated (cyber capabilities, red-teaming, mitigations) and what was found.",
    )


def _severity_choices():
    return [
        (value, f"{label} — complete report due within {incident_report_days(value)} days")
        for value, label in IncidentReport.Severity.choices
    ]


class _CustomersField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.legal_name} ({obj.country_name})"


class _AffectedMixin(forms.Form):
    affected_customers = _CustomersField(
        queryset=PartnerCustomer.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="Partner customers cleared for the model who were affected (Ctrl or ⌘ to choose several).",
    )
    other_affected = forms.CharField(
        label="Anyone else affected",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text="People or organisations affected who are not your partner customers.",
    )

    def __init__(self, *args, customers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if customers is not None:
            self.fields["affected_customers"].queryset = customers


class IncidentForm(USWDSMixin, _AffectedMixin):
    category = forms.ChoiceField(
        label="What happened", choices=[("", "- Select -"), *IncidentReport.Category.choices]
    )
    severity = forms.ChoiceField(choices=[])
    detected_on = forms.DateField(
        label="Day you became aware of it",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The report's clock runs from this day.",
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs=_TEXT),
        help_text="What happened, when, how it was found, and what was done so far.",
    )
    root_cause = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs=_TEXT),
        help_text="If you know it now. With the remediation, this makes the report complete.",
    )
    remediation = forms.CharField(required=False, widget=forms.Textarea(attrs=_TEXT))

    field_order = [
        "category",
        "severity",
        "detected_on",
        "description",
        "affected_customers",
        "other_affected",
        "root_cause",
        "remediation",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["severity"].choices = [("", "- Select -"), *_severity_choices()]
        self.order_fields(self.field_order)


class CompleteIncidentForm(USWDSMixin, _AffectedMixin):
    root_cause = forms.CharField(widget=forms.Textarea(attrs=_TEXT))
    remediation = forms.CharField(
        widget=forms.Textarea(attrs=_TEXT), help_text="What was done, and will be done, to remedy it."
    )


class DesignationResponseForm(USWDSMixin, forms.Form):
    response = forms.CharField(
        label="Your answer",
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text="Answer the findings. You can answer once; the lead agency reads it before deciding "
        "whether to keep or rescind the designation.",
    )
