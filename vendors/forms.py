"""Forms of the vendor pages: parse and check what was typed; the services decide."""

from django import forms

from portal.accounts.models import VENDOR_ROLES, Role
from portal.audit.versions import version_field, version_of
from vendors.choices import COUNTRY_CHOICES, Sector
from vendors.models import EvidenceDocument, FrontierModel, PartnerCustomer, Vendor, format_flop, parse_flop

BLANK = [("", "- Select -")]
VENDOR_ROLE_CHOICES = [(r.value, r.label) for r in Role if r in VENDOR_ROLES]


class USWDSMixin:
    """Give every widget its USWDS class, and mark fields with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "usa-checkbox__input"
            elif isinstance(widget, forms.Select):
                css = "usa-select"
            elif isinstance(widget, forms.Textarea):
                css = "usa-textarea"
            elif isinstance(widget, forms.ClearableFileInput | forms.FileInput):
                css = "usa-file-input"
            else:
                css = "usa-input"
            widget.attrs["class"] = css
            if field.help_text:
                widget.attrs["aria-describedby"] = f"id_{name}-hint"

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "usa-input--error" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = widget.attrs.get("class", "") + " usa-input--error"
                widget.attrs["aria-invalid"] = "true"
                # Point at the error as well as the hint, so a screen reader reads both.
                described = widget.attrs.get("aria-describedby", "").split()
                if f"id_{name}_error" not in described:
                    widget.attrs["aria-describedby"] = " ".join([*described, f"id_{name}_error"])


def _text(max_length, label=None, required=True, help_text="", rows=None):
    kwargs = {"max_length": max_length, "required": required, "help_text": help_text}
    if label:
        kwargs["label"] = label
    if rows:
        kwargs["widget"] = forms.Textarea(attrs={"rows": rows})
    return forms.CharField(**kwargs)


REASON_HELP = "Shown in the record's history. Optional."
AMENDMENT_HELP = (
    "Shown in the record's history. Required when you change a material fact (marked “material”) "
    "while a request under review or an active grant concerns this record: the agencies read it."
)


class VersionedForm(forms.Form):
    """An edit form carrying the version of the record it showed (``portal.audit.versions``)."""

    record_version = version_field()

    def __init__(self, *args, instance=None, **kwargs):
        super().__init__(*args, **kwargs)
        if instance is not None:
            self.fields["record_version"].initial = version_of(instance)


def _mark_material(form, model):
    """Say on each material fact's field that changing it may be an amendment."""
    from vendors.amendments import material_fields

    for name in material_fields(model):
        field = form.fields.get(name)
        if field is not None and not field.disabled:
            field.label = f"{field.label or name.replace('_', ' ').capitalize()} (material)"


class FlopField(forms.Field):
    """Training compute written the way people write it: ``3.2e26`` or ``3.2 × 10^26``."""

    widget = forms.TextInput(attrs={"maxlength": 60, "inputmode": "decimal", "spellcheck": "false"})

    def prepare_value(self, value):
        if isinstance(value, int | float):
            return format_flop(value)
        return value

    def to_python(self, value):
        if isinstance(value, int | float):  # a disabled field gives back its initial value
            return float(value)
        value = (value or "").strip()
        if not value:
            return None
        if len(value) > 60:
            raise forms.ValidationError("Write the compute in at most 60 characters, for example 3.2e26.")
        try:
            return parse_flop(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class FrontierModelForm(USWDSMixin, VersionedForm):
    name = _text(200, help_text="For example Aurora Atlas.")
    version = _text(50, help_text="For example 2.0.")
    training_compute_flop = FlopField(
        label="Training compute (FLOP)",
        help_text="Total training compute, for example 3.2e26 or 3.2 × 10^26.",
    )
    description = _text(10000, required=False, rows=4)
    capability_summary = _text(10000, required=False, rows=4)
    cyber_evaluation_summary = _text(10000, label="Cyber-evaluation summary", required=False, rows=4)
    intended_release = _text(
        10000,
        required=False,
        rows=3,
        help_text=FrontierModel._meta.get_field("intended_release").help_text,
    )

    def __init__(self, *args, instance=None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {f: getattr(instance, f) for f in self.base_fields if hasattr(instance, f)}
        super().__init__(*args, instance=instance, **kwargs)
        if instance is not None:
            self.fields["reason"] = _text(
                1000, label="Reason for the change", required=False, help_text=AMENDMENT_HELP
            )
            self.fields["reason"].widget.attrs["class"] = "usa-input"
            if instance.release_phase != FrontierModel.ReleasePhase.REGISTERED:
                for name in ("name", "version", "training_compute_flop"):
                    self.fields[name].disabled = True
                    self.fields[
                        name
                    ].help_text = (
                        "Fixed once the model has gone to review: the agencies review what was registered."
                    )
            _mark_material(self, FrontierModel)

    def compute_read_back(self):
        """The training compute as typed and as read, for the confirmation message; empty when
        the field was not changed (it is fixed once the model has gone to review)."""
        field = self.fields["training_compute_flop"]
        if field.disabled:
            return ""
        typed = " ".join(str(self.data.get("training_compute_flop", "")).split())
        read = format_flop(self.cleaned_data["training_compute_flop"])
        return f"Training compute: you wrote “{typed}”, read as {read} FLOP."


class WithdrawForm(USWDSMixin, forms.Form):
    reason = _text(
        1000,
        label="Why is the model withdrawn?",
        rows=3,
        help_text="The agencies will read this. Withdrawing cannot be undone by the vendor.",
    )


class PartnerCustomerForm(USWDSMixin, VersionedForm):
    legal_name = _text(200, help_text="As registered, for example Example Grid Operations LLC.")
    country = forms.ChoiceField(choices=BLANK + COUNTRY_CHOICES, help_text="ISO 3166-1 country.")
    sector = forms.ChoiceField(
        choices=BLANK + list(Sector.choices),
        help_text="One of the 16 U.S. critical-infrastructure sectors, or other.",
    )
    registration_id = _text(100, label="Registration id", required=False, help_text="Optional.")
    intended_use = _text(5000, rows=4, help_text="What the customer will use the model for.")
    ownership = _text(
        2000,
        required=False,
        rows=2,
        help_text="Who owns or controls the customer: parent company, major shareholders, any government "
        "ownership.",
    )
    security_contact_name = _text(200, label="Security contact's name")
    security_contact_email = forms.EmailField(label="Security contact's e-mail address", max_length=254)
    attestation = forms.BooleanField(
        required=False,
        label="We attest that this customer is who it says it is and that its intended use is accurately "
        "described.",
    )

    def __init__(self, *args, instance=None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {f: getattr(instance, f) for f in self.base_fields if f != "record_version"}
        super().__init__(*args, instance=instance, **kwargs)
        if instance is not None:
            self.fields["reason"] = _text(
                1000, label="Reason for the change", required=False, help_text=AMENDMENT_HELP
            )
            self.fields["reason"].widget.attrs["class"] = "usa-input"
            if instance.identity_frozen:
                for name in ("legal_name", "country"):
                    self.fields[name].disabled = True
                    self.fields[
                        name
                    ].help_text = (
                        "Fixed: this customer is in a submitted access request, reviewed as it was submitted."
                    )
            _mark_material(self, PartnerCustomer)


class EvidenceForm(USWDSMixin, forms.Form):
    kind = forms.ChoiceField(label="Kind of document", choices=BLANK + list(EvidenceDocument.Kind.choices))
    title = _text(200, help_text="For example “Model card v2” or “Red-team report, March”.")
    file = forms.FileField(
        label="Document",
        help_text="PDF or plain text, at most 20 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.txt,application/pdf,text/plain"}),
    )


class EvidenceReplaceForm(USWDSMixin, forms.Form):
    file = forms.FileField(
        label="New document",
        help_text="PDF or plain text, at most 20 MB. It takes the place of the current file.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.txt,application/pdf,text/plain"}),
    )
    title = _text(200, required=False, help_text="Leave empty to keep the current title.")
    reason = _text(
        500, required=False, label="Why (kept in the history)", help_text="For example “wrong version”."
    )


class EvidenceRemoveForm(USWDSMixin, forms.Form):
    reason = _text(
        500, required=False, label="Why (kept in the history)", help_text="For example “uploaded by mistake”."
    )


class CustomerImportForm(USWDSMixin, forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 CSV in the template's columns, at most 5 MB (10,000 customers).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class InviteForm(USWDSMixin, forms.Form):
    full_name = _text(200, label="Full name")
    email = forms.EmailField(label="E-mail address", max_length=254)
    role = forms.ChoiceField(choices=BLANK + VENDOR_ROLE_CHOICES)


class RoleForm(USWDSMixin, VersionedForm):
    role = forms.ChoiceField(choices=VENDOR_ROLE_CHOICES)
    reason = _text(500, label="Reason", required=False, help_text=REASON_HELP)


class DeactivateForm(USWDSMixin, VersionedForm):
    reason = _text(500, label="Reason", required=False, help_text=REASON_HELP)


class VendorProfileForm(USWDSMixin, VersionedForm):
    legal_name = _text(200)
    registration_ids = _text(
        500,
        label="Registration ids",
        required=False,
        help_text=Vendor._meta.get_field("registration_ids").help_text,
    )
    primary_contact_name = _text(200, label="Primary contact's name", required=False)
    primary_contact_email = forms.EmailField(label="Primary contact's e-mail address", required=False)
    primary_contact_phone = _text(40, label="Primary contact's phone", required=False)
    reason = _text(500, label="Reason for the change", required=False, help_text=REASON_HELP)

    def __init__(self, *args, instance=None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                f: getattr(instance, f) for f in self.base_fields if f not in {"reason", "record_version"}
            }
        super().__init__(*args, instance=instance, **kwargs)


class SecurityContactNoticesForm(USWDSMixin, forms.Form):
    """Whether partner customers' security contacts are told of suspensions and revocations."""

    enabled = forms.TypedChoiceField(
        label="Tell partner customers' security contacts",
        choices=[
            ("yes", "Yes, send them a plain notice"),
            ("no", "No, our team tells our customers"),
        ],
        coerce=lambda value: value == "yes",
        help_text="When an agency suspends a model or revokes a grant.",
    )
    reason = _text(500, label="Reason for the change", required=False, help_text=REASON_HELP)
