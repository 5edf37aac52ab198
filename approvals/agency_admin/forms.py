"""The agency officials' forms: parse and check what was typed; the services decide."""

from django import forms

from approvals.models import Condition, Position, ReviewFinding
from approvals.services import RESOLUTIONS
from approvals.vendor_pages.forms import VersionMixin
from portal.form_fields import IdMultipleChoiceField
from vendors.forms import USWDSMixin


class AssignForm(USWDSMixin, VersionMixin):
    officials = IdMultipleChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple)

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

    def __init__(self, *args, outcomes=None, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["stance"]
        self.fields["outcome"] = forms.ChoiceField(
            choices=list((outcomes or RESOLUTIONS).items()), widget=forms.RadioSelect
        )
        self.fields["rationale"].required = True
        self.fields["rationale"].help_text = "Shown to the vendor in the letter or the intent to deny."
        self.order_fields(["outcome", "rationale"])


class VersionForm(VersionMixin):
    """A one-click action: only the version of the page it was clicked on."""


class ReturnForm(USWDSMixin, VersionMixin):
    reason = forms.CharField(
        label="Reasons",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="The vendor reads these on its request page and in the e-mail.",
    )


class FinaliseDenialForm(USWDSMixin, VersionMixin):
    rationale = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Leave empty to use the reasons of the intent to deny.",
    )


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


class ShownRecordsMixin(forms.Form):
    """The records the confirmation page showed (``shown.encode``), sent back with the order."""

    shown_records = forms.CharField(widget=forms.HiddenInput, required=False)


class SuspendForm(ShownRecordsMixin, BasisForm):
    attest_within_hours = forms.IntegerField(
        label="Hours the vendor has to attest the cut-off",
        min_value=1,
        max_value=720,
        initial=24,
        required=False,
        help_text="The vendor attests, customer by customer, that access was actually cut off. Overdue "
        "attestations go on the dashboard's clock queue and are mailed daily. Empty: 24 hours.",
    )
    expected_grants = forms.IntegerField(widget=forms.HiddenInput, required=False)
    expected_requests = forms.IntegerField(widget=forms.HiddenInput, required=False)


class LiftForm(ShownRecordsMixin, BasisForm):
    expected_grants = forms.IntegerField(widget=forms.HiddenInput, required=False)


class DesignateForm(ShownRecordsMixin, BasisForm):
    expected_requests = forms.IntegerField(widget=forms.HiddenInput, required=False)


class RescindForm(ShownRecordsMixin, BasisForm):
    close_referrals = forms.BooleanField(
        required=False,
        help_text="Closed without a position, each with this rescission in its history. Unticked, they stay "
        "open and the agencies finish their reviews.",
    )

    def __init__(self, *args, referrals=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.referrals = list(referrals)
        count = len(referrals)
        if not count:
            del self.fields["close_referrals"]
        else:
            codes = ", ".join(sorted({r.agency.code for r in referrals}))
            self.fields[
                "close_referrals"
            ].label = f"Close these {count} {codes} referral{'s' if count != 1 else ''} with the rescission"


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
