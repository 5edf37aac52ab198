"""The project's one exception type for refusals a user can act on."""


class PortalError(Exception):
    """A service refused: the message is written for the person on the other side of the form.

    ``field`` names the form field the message belongs next to, when there is one;
    ``messages`` carries several defects at once (the completeness check lists them all).
    """

    def __init__(self, message, *, field=None, messages=None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.messages = list(messages or [message])

    def add_to_form(self, form):
        """Show the refusal on ``form``: next to its field when it has one, else at the top."""
        field = self.field if self.field in getattr(form, "fields", {}) else None
        for message in self.messages:
            form.add_error(field, message)
