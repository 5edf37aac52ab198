"""What every API view shares: writes recorded against their token, and ``Idempotency-Key``."""

import hashlib
import json

from django.db import connection, transaction
from rest_framework import generics, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from api.models import ApiToken, ApiTokenUse, IdempotentResponse
from api.problems import problem
from portal.observability.context import current_request_id

SAFE = ("GET", "HEAD", "OPTIONS")
IDEMPOTENCY_HEADER = "HTTP_IDEMPOTENCY_KEY"


def _body_digest(request):
    try:
        data = request.data
        if hasattr(data, "dict"):
            data = {k: data.getlist(k) for k in data}
        text = json.dumps(data, sort_keys=True, default=str)
    except Exception:  # noqa: BLE001 - an unreadable body is hashed as empty; the view refuses it
        text = ""
    return hashlib.sha256(f"{request.method} {request.path}\n{text}".encode()).hexdigest()


class ApiMixin:
    """Writes: a retried call with the same ``Idempotency-Key`` answers what the first one did and
    changes nothing; every write made with a token is recorded against it (``ApiTokenUse``), with
    the request id that also stamps the history rows the write produced."""

    def dispatch(self, request, *args, **kwargs):
        self.args, self.kwargs, self.request = args, kwargs, request
        key = request.META.get(IDEMPOTENCY_HEADER, "").strip()
        if request.method in SAFE or not key:
            return super().dispatch(request, *args, **kwargs)
        return self._dispatch_once(request, key, *args, **kwargs)

    def _dispatch_once(self, request, key, *args, **kwargs):
        drf_request = self.initialize_request(request, *args, **kwargs)
        try:
            self.initial(drf_request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - authentication and throttling answer as usual
            self.request = drf_request
            self.headers = self.default_response_headers
            return self.finalize_response(drf_request, self.handle_exception(exc), *args, **kwargs)
        user = drf_request.user
        if len(key) > 200:
            self.request = drf_request
            self.headers = self.default_response_headers
            response = problem(
                400,
                "The Idempotency-Key is too long.",
                kind="validation",
                errors=[{"field": "Idempotency-Key", "message": "At most 200 characters."}],
            )
            return self.finalize_response(drf_request, response, *args, **kwargs)
        digest = _body_digest(drf_request)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:  # the same key from two retries at once: one waits
                    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"idem:{user.pk}:{key}"])
            stored = IdempotentResponse.objects.filter(user=user, key=key).first()
        if stored is not None:
            self.request = drf_request
            self.headers = self.default_response_headers
            if stored.body_sha256 != digest:
                response = problem(
                    422,
                    "This Idempotency-Key was used for a different request.",
                    kind="idempotency-key-reused",
                    errors=[{"field": "Idempotency-Key", "message": "Use a new key for a new request."}],
                )
            else:
                response = Response(
                    stored.response_body, status=stored.status_code, headers={"Idempotent-Replayed": "true"}
                )
            return self.finalize_response(drf_request, response, *args, **kwargs)
        response = super().dispatch(drf_request, *args, **kwargs)
        if response.status_code < 500:
            IdempotentResponse.objects.get_or_create(
                user=user,
                key=key,
                defaults={
                    "method": request.method,
                    "path": request.path[:500],
                    "body_sha256": digest,
                    "status_code": response.status_code,
                    "response_body": getattr(response, "data", None),
                },
            )
        return response

    def initialize_request(self, request, *args, **kwargs):
        if hasattr(request, "_request"):  # already a DRF request (the idempotent path made it)
            return request
        return super().initialize_request(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        token = getattr(request, "auth", None)
        if isinstance(token, ApiToken) and request.method not in SAFE:
            ApiTokenUse.objects.create(
                token=token,
                acting_user_id=token.created_by_id,
                request_id=current_request_id() or "",
                method=request.method,
                path=request.path[:500],
                status_code=response.status_code,
            )
        return response


class ApiView(ApiMixin, APIView):
    pass


class ApiGenericView(ApiMixin, generics.GenericAPIView):
    pass


class ApiViewSet(ApiMixin, viewsets.GenericViewSet):
    pass
