from django import forms

from api.models import ApiToken
from api.services.tokens import MAX_LIFETIME_DAYS
from vendors.forms import USWDSMixin


class TokenForm(USWDSMixin, forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “provisioning system”.")
    scope = forms.ChoiceField(choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ)
    expires_in_days = forms.IntegerField(
        label="Expires after (days)",
        min_value=1,
        max_value=MAX_LIFETIME_DAYS,
        initial=90,
        help_text=f"At most {MAX_LIFETIME_DAYS} days.",
    )


class WebhookEndpointForm(USWDSMixin, forms.Form):
    url = forms.CharField(label="HTTPS address", max_length=500)
    description = forms.CharField(max_length=200, required=False)


class EntitlementLookupForm(USWDSMixin, forms.Form):
    model = forms.ChoiceField(label="Model")
    customer = forms.CharField(
        label="Customer",
        max_length=200,
        help_text="The customer's number in the portal, or your own reference.",
    )

    def __init__(self, *args, frontier_models=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", "- Select -")] + [(str(m.pk), str(m)) for m in frontier_models]
