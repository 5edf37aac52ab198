"""How the API knows who calls: a bearer token (``Authorization: Bearer fap_…``), or the signed-in
session with its CSRF token (DRF's ``SessionAuthentication`` enforces CSRF on every unsafe method,
so a session cookie alone never writes)."""

from rest_framework import authentication, exceptions

from api.services.tokens import authenticate_token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0].lower() != self.keyword.lower():
            raise exceptions.AuthenticationFailed("Send the token as “Authorization: Bearer <token>”.")
        token = authenticate_token(parts[1])
        if token is None:
            raise exceptions.AuthenticationFailed("The token is unknown, expired or revoked.")
        user = token.created_by
        user._api_token = token
        user._vendor_for_cache = token.vendor
        return user, token

    def authenticate_header(self, request):
        return self.keyword
