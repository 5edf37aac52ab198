"""Forms of the review process: parse and check what was typed; the services decide."""

from django import forms

from approvals.models import Condition, Position
from approvals.services import MAX_DURATION_DAYS, RESOLUTIONS
from portal import permissions
from vendors.forms import USWDSMixin
from vendors.models import FrontierModel, PartnerCustomer


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


class _ModelChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


class _CustomerChoice(forms.ModelChoiceField):
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
        queryset=PartnerCustomer.objects.none(), label="Partner customer", empty_label="- Select -"
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
        label="Supporting document (optional)",
        required=False,
        help_text=(
            "A PDF or plain-text file, for example the customer's end-use statement. You can add more later."
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


# ---------------------------------------------------------------------------------------------
# Agency forms (admin)


class AssignForm(USWDSMixin, VersionMixin):
    officials = forms.ModelMultipleChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, officials, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officials"].queryset = officials


CONDITION_ROWS = 4


class PositionForm(USWDSMixin, VersionMixin):
    """A position with up to four conditions (text plus optional structure)."""

    stance = forms.ChoiceField(choices=Position.Stance.choices, widget=forms.RadioSelect)
    rationale = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Required when the agency does not concur.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(CONDITION_ROWS):
            self.fields[f"condition_{i}_kind"] = forms.ChoiceField(
                label=f"Condition {i + 1}: kind", choices=Condition.Kind.choices, required=False
            )
            self.fields[f"condition_{i}_text"] = forms.CharField(
                label=f"Condition {i + 1}: text", required=False, widget=forms.Textarea(attrs={"rows": 2})
            )
            self.fields[f"condition_{i}_expires_on"] = forms.DateField(
                label=f"Condition {i + 1}: access ends on",
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}),
            )
            self.fields[f"condition_{i}_seat_cap"] = forms.IntegerField(
                label=f"Condition {i + 1}: seats", required=False, min_value=1
            )

    def condition_rows(self):
        return [
            [self[f"condition_{i}_{part}"] for part in ("kind", "text", "expires_on", "seat_cap")]
            for i in range(CONDITION_ROWS)
        ]

    def conditions(self):
        rows = []
        for i in range(CONDITION_ROWS):
            kind = self.cleaned_data.get(f"condition_{i}_kind") or Condition.Kind.TEXT
            text = self.cleaned_data.get(f"condition_{i}_text") or ""
            expires_on = self.cleaned_data.get(f"condition_{i}_expires_on")
            seat_cap = self.cleaned_data.get(f"condition_{i}_seat_cap")
            if kind == Condition.Kind.TEXT and not text.strip():
                continue
            rows.append({"kind": kind, "text": text, "expires_on": expires_on, "seat_cap": seat_cap})
        return rows


class SignForm(VersionMixin):
    drafted_at = forms.CharField(widget=forms.HiddenInput, required=False)


class QuestionForm(USWDSMixin, VersionMixin):
    question = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))
    deadline = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty for the default of 10 days from today.",
    )


class NoteForm(USWDSMixin, forms.Form):
    body = forms.CharField(label="Note", widget=forms.Textarea(attrs={"rows": 4}))


class DecisionForm(USWDSMixin, VersionMixin):
    rationale = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))


class EscalateForm(USWDSMixin, VersionMixin):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))


class ResolveForm(PositionForm):
    """Resolving an escalation: an outcome, a rationale, and further conditions if approving."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["stance"]
        self.fields["outcome"] = forms.ChoiceField(
            choices=list(RESOLUTIONS.items()), widget=forms.RadioSelect
        )
        self.fields["rationale"].required = True
        self.fields["rationale"].help_text = "Shown to the vendor in the letter or the intent to deny."
        self.order_fields(["outcome", "rationale"])


class FinaliseDenialForm(USWDSMixin, VersionMixin):
    rationale = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Leave empty to use the reasons of the intent to deny.",
    )
