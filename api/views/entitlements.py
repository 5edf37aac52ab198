"""``/api/v1/entitlements/``: is this customer cleared for this model right now, and if not, why."""

import json

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from api import entitlement_cache
from api.models import ApiToken
from api.serializers.entitlements import (
    BatchRequestSerializer,
    BatchResponseSerializer,
    EntitlementSerializer,
    entitlement_data,
)
from api.services.tokens import token_digest
from api.views import lean_entitlement
from api.views.base import ApiView
from approvals.selectors.entitlements import entitlement, entitlements, find_customers, find_models


class EntitlementQuery(serializers.Serializer):
    model = serializers.CharField(max_length=200)
    customer = serializers.CharField(max_length=200)


def _token_vendor(request):
    """The vendor a token is scoped to (``None`` for a session: then ``restrict(user)`` applies)."""
    return request.auth.vendor if isinstance(request.auth, ApiToken) else None


def _not_found(model, customer):
    if model is None:
        return "No model you may read has this id or name (give the id if the name is shared)."
    return "No customer you may read has this id or reference."


class EntitlementView(ApiView):
    def dispatch(self, request, *args, **kwargs):
        """The plain check (a token, one model, one customer) takes the lean path; everything
        else, errors included, is answered here."""
        response = lean_entitlement.answer(request)
        if response is not None:
            return response
        request._entitlement_kept = self._kept(request)
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def _kept(request):
        """The cache's generation and entry for a token's plain check, read before anything
        else of the request (the token included) is read from the database."""
        digest = token_digest(lean_entitlement._secret(request) or "")
        model, customer = (request.GET.get(name, "").strip() for name in ("model", "customer"))
        if digest is None or not model or not customer or request.method != "GET":
            return None
        return digest, entitlement_cache.lookup(entitlement_cache.key(digest, model, customer))

    @extend_schema(
        operation_id="entitlement_check",
        parameters=[
            OpenApiParameter(
                "model", str, required=True, description="The model's id or name (“name version”)."
            ),
            OpenApiParameter(
                "customer", str, required=True, description="The customer's id or the vendor's own reference."
            ),
        ],
        responses={200: EntitlementSerializer},
        summary="Is this customer cleared for this model now?",
    )
    def get(self, request):
        query = EntitlementQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        model_id, customer_id = (
            query.validated_data["model"].strip(),
            query.validated_data["customer"].strip(),
        )
        vendor = _token_vendor(request)
        frontier_model = find_models(request.user, [model_id], vendor=vendor).get(model_id)
        partner_customer = (
            find_customers(request.user, [customer_id], vendor=vendor).get(customer_id)
            if frontier_model
            else None
        )
        if frontier_model is None or partner_customer is None:
            field = "model" if frontier_model is None else "customer"
            raise serializers.ValidationError({field: [_not_found(frontier_model, partner_customer)]})
        kept = getattr(request._request, "_entitlement_kept", None)
        token = request.auth if isinstance(request.auth, ApiToken) else None
        if kept is not None and (token is None or token.secret_sha256 != kept[0]):
            kept = None
        if kept is not None and kept[1].body is not None:
            return Response(json.loads(kept[1].body))
        answer = entitlement(frontier_model=frontier_model, partner_customer=partner_customer)
        data = entitlement_data(answer)
        if kept is not None:
            entitlement_cache.store(kept[1], request.auth, lean_entitlement.render(data), timezone.now())
        return Response(data)


class EntitlementBatchView(ApiView):
    @extend_schema(
        operation_id="entitlement_check_batch",
        request=BatchRequestSerializer,
        responses={200: BatchResponseSerializer},
        summary="The entitlement answer for up to 1,000 model × customer pairs.",
    )
    def post(self, request):
        body = BatchRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pairs = [(p["model"].strip(), p["customer"].strip()) for p in body.validated_data["pairs"]]
        vendor = _token_vendor(request)
        models = find_models(request.user, {m for m, _ in pairs}, vendor=vendor)
        customers = find_customers(request.user, {c for _, c in pairs}, vendor=vendor)
        resolved = [(models.get(m), customers.get(c)) for m, c in pairs]
        answers = iter(entitlements([(m, c) for m, c in resolved if m is not None and c is not None]))
        results = []
        for (model_id, customer_id), (m, c) in zip(pairs, resolved, strict=True):
            item = {"model": model_id, "customer": customer_id, "found": m is not None and c is not None}
            if item["found"]:
                item["entitlement"] = entitlement_data(next(answers))
            else:
                item["error"] = _not_found(m, c)
            results.append(item)
        return Response({"results": results})
