from django import forms

from portal.notifications.models import NotificationPreference


class PreferenceForm(forms.Form):
    delivery = forms.ChoiceField(
        label="Routine notifications",
        choices=NotificationPreference.Delivery.choices,
        widget=forms.RadioSelect,
        help_text=(
            "Decisions, enforcement actions, deadlines and information requests are always e-mailed at once."
        ),
    )
