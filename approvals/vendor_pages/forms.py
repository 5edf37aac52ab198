"""The vendor's forms: parse and check what was typed; the services decide."""

from django import forms
from django.urls import reverse_lazy

from approvals.models import IncidentReport
from approvals.services import MAX_DURATION_DAYS, incident_report_days
from portal import permissions
from portal.form_fields import IdChoiceField, IdMultipleChoiceField
from vendors.forms import USWDSMixin
from vendors.models import FrontierModel, PartnerCustomer
from vendors.widgets import SearchSelect

_TEXT = {"rows": 4, "cols": 80}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files (none included) from one ``<input type=file multiple>``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class VersionMixin(forms.Form):
    """The version of the request the page showed; a stale form is refused by the service."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class _ModelChoice(IdChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


class _CustomerChoice(IdChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.legal_name} ({obj.country_name})"


class RequestForm(USWDSMixin, VersionMixin):
    """A draft's fields. Models offered: the vendor's in limited preview; customers: its own."""

    frontier_model = _ModelChoice(
        queryset=FrontierModel.objects.none(),
        label="Model",
        empty_label="- Select -",
        help_text="Only models cleared for limited preview can be requested.",
    )
    partner_customer = _CustomerChoice(
        queryset=PartnerCustomer.objects.none(),
        label="Partner customer",
        empty_label="- Select -",
        help_text="Type part of the customer's name or registration id to find it.",
        widget=SearchSelect(search_url=reverse_lazy("vendors:customer_search")),
    )
    use_case = forms.CharField(
        label="Use case",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the customer will do with the model, in a few sentences.",
    )
    scope = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Which capabilities, how many seats, which regions and what data are in scope.",
    )
    requested_duration_days = forms.IntegerField(
        label="Requested duration (days)",
        required=False,
        min_value=1,
        max_value=MAX_DURATION_DAYS,
        help_text=f"At most {MAX_DURATION_DAYS} days; access is granted for a year at most.",
    )

    def __init__(self, *args, user, vendor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["frontier_model"].queryset = permissions.visible_to(
            user,
            FrontierModel.objects.filter(
                vendor=vendor, release_phase=FrontierModel.ReleasePhase.LIMITED_PREVIEW
            ).order_by("name", "version"),
        )
        self.fields["partner_customer"].queryset = permissions.visible_to(
            user, PartnerCustomer.objects.filter(vendor=vendor).order_by("legal_name")
        )


class NewRequestForm(RequestForm):
    document = forms.FileField(
        label="Supporting document (needed before you submit)",
        required=False,
        help_text=(
            "A PDF or plain-text file, for example the customer's end-use statement. You can save the draft "
            "without it and add it, or more, later; a request is submitted with at least one."
        ),
    )
    document_title = forms.CharField(label="Document title", required=False, max_length=200)


class DocumentForm(USWDSMixin, forms.Form):
    file = forms.FileField(label="Document", help_text="A PDF or plain-text file, at most 20 MB.")
    title = forms.CharField(
        required=False, max_length=200, help_text="Optional; the file name is used otherwise."
    )


class SubmitForm(VersionMixin):
    pass


class WithdrawForm(USWDSMixin, VersionMixin):
    reason = forms.CharField(
        label="Why are you withdrawing the request?",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The agencies reviewing it will see this.",
    )


class AnswerForm(USWDSMixin, VersionMixin):
    answer = forms.CharField(label="Your answer", widget=forms.Textarea(attrs={"rows": 5}))
    documents = MultipleFileField(
        label="Documents (optional)", help_text="PDF or plain-text files; you can choose several."
    )


class IntentResponseForm(USWDSMixin, VersionMixin):
    response = forms.CharField(
        label="Your response",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Why the request should be granted.",
    )


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


class _CustomersField(IdMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.legal_name} ({obj.country_name})"


class _AffectedMixin(forms.Form):
    affected_customers = _CustomersField(
        queryset=PartnerCustomer.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Partner customers cleared for the model who were affected: tick every one.",
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


class CutoffAttestationForm(USWDSMixin, forms.Form):
    """The vendor attests, for the customers it ticks, that their access to the model was cut off."""

    attestations = forms.TypedMultipleChoiceField(
        label="Customers whose access you have cut off",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    all_waiting = forms.BooleanField(
        required=False, label="All the customers still waiting (including any not listed on this page)"
    )
    statement = forms.CharField(
        label="How access was cut off",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="For example: API keys revoked and the tenant disabled at 14:05 UTC. "
        "The lead agency reads it.",
    )

    def __init__(self, *args, waiting=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attestations"].choices = [
            (row.pk, f"{row.partner_customer.legal_name} ({row.grant.access_request.tracking_number})")
            for row in waiting
        ]
