"""Django's password backend, reading the signed-in person with their organisation."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ModelBackendWithOrganisation(ModelBackend):
    """Every page asks for the signed-in person's organisation (the log line names it, the header
    shows it, the permission filters start from it): it comes in the same query as the person,
    one query a page instead of two."""

    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("organisation").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
