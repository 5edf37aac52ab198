from django import forms

from portal.audit.versions import version_field
from portal.notifications.models import NotificationPreference


class PreferenceForm(forms.Form):
    record_version = version_field()
    delivery = forms.ChoiceField(
        label="Routine notifications",
        choices=NotificationPreference.Delivery.choices,
        widget=forms.RadioSelect,
        help_text=(
            "Decisions, enforcement actions, deadlines and information requests are always e-mailed at once."
        ),
    )
