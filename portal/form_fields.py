"""Choice fields for records picked by id, safe against any text a person can send.

Django's model choice fields pass the submitted value to the database; a number beyond a
bigint (``99999999999999999999``) then raises ``OverflowError`` on SQLite instead of a form
error. These fields refuse anything that is not a plain id first, with the usual message.
"""

from django import forms
from django.core.exceptions import ValidationError

from portal.params import int_param


class IdChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        if (
            value not in self.empty_values
            and not isinstance(value, self.queryset.model)
            and self.to_field_name in (None, "pk", "id")
            and int_param(value) is None
        ):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        if self.to_field_name in (None, "pk", "id"):
            for pk in value:
                if int_param(pk) is None:
                    raise ValidationError(
                        self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                    )
        return super()._check_values(value)
