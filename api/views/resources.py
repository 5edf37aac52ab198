"""The vendor's records over REST: each view parses, calls the app's service or selector, renders.

Lists are the apps' own selectors (so ``visible_to`` filters them), cursor-paginated, with a few
filters as query parameters; another vendor's record answers 404 like a missing one.
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.serializers import resources as s
from api.views.base import ApiViewSet
from approvals import services as approvals_services
from approvals.models import Decision
from approvals.selectors import (
    grants_visible_to,
    incidents_visible_to,
    request_by_reference,
    requests_visible_to,
)
from portal.notifications.selectors import notifications_for
from portal.permissions import get_visible_or_404
from vendors import selectors as vendor_selectors
from vendors import services as vendor_services
from vendors.models import FrontierModel, PartnerCustomer


def _param(name, description, enum=None):
    return OpenApiParameter(name, str, required=False, description=description, enum=enum)


def _filter(queryset, request, **fields):
    """Apply ``?name=value`` filters named in ``fields`` (query parameter → lookup)."""
    for name, lookup in fields.items():
        value = request.query_params.get(name, "").strip()
        if value:
            if lookup.endswith("_id") and not value.isdigit():
                return queryset.none()
            queryset = queryset.filter(**{lookup: value[:200]})
    return queryset


def _vendor(request):
    vendor = vendor_selectors.vendor_for(request.user)
    if vendor is None:
        raise Http404("No such record.")
    return vendor


@extend_schema_view(
    list=extend_schema(
        summary="The frontier models you may read",
        parameters=[
            _param("release_phase", "Only models in this phase.", list(FrontierModel.ReleasePhase.values))
        ],
    ),
    retrieve=extend_schema(summary="One frontier model"),
)
class FrontierModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = s.FrontierModelSerializer
    queryset = FrontierModel.objects.none()

    def get_queryset(self):
        queryset = FrontierModel.objects.restrict(self.request.user).order_by("-pk")
        return _filter(queryset, self.request, release_phase="release_phase")

    @extend_schema(
        summary="Upload an evidence document for the model",
        request={"multipart/form-data": s.EvidenceUploadSerializer},
        responses={201: s.EvidenceSerializer},
    )
    @action(detail=True, methods=["post"], url_path="evidence")
    def evidence(self, request, pk=None):
        frontier_model = self.get_object()
        body = s.EvidenceUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        document = vendor_services.attach_evidence(
            kind=body.validated_data["kind"],
            title=body.validated_data["title"],
            uploaded_file=body.validated_data["file"],
            actor=request.user,
            frontier_model=frontier_model,
        )
        return Response(s.EvidenceSerializer(document).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary="Your partner customers",
        parameters=[
            _param("country", "ISO 3166-1 alpha-2 country."),
            _param("sector", "Sector."),
            _param("reference", "Your own reference (registration id)."),
        ],
    ),
    retrieve=extend_schema(summary="One partner customer"),
    create=extend_schema(
        summary="Register a partner customer",
        request=s.PartnerCustomerInputSerializer,
        responses={201: s.PartnerCustomerSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a partner customer (its identity is fixed once it is in a submitted request)",
        request=s.PartnerCustomerUpdateSerializer,
        responses={200: s.PartnerCustomerSerializer},
    ),
)
class PartnerCustomerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    ApiViewSet,
):
    serializer_class = s.PartnerCustomerSerializer
    queryset = PartnerCustomer.objects.none()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        queryset = PartnerCustomer.objects.restrict(self.request.user).order_by("-pk")
        return _filter(
            queryset, self.request, country="country", sector="sector", reference="registration_id"
        )

    def create(self, request, *args, **kwargs):
        body = s.PartnerCustomerInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        customer = vendor_services.register_partner_customer(
            vendor=_vendor(request), actor=request.user, **body.validated_data
        )
        return Response(s.PartnerCustomerSerializer(customer).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        customer = get_visible_or_404(request.user, PartnerCustomer.objects.all(), "change", pk=kwargs["pk"])
        body = s.PartnerCustomerUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        customer = vendor_services.update_partner_customer(
            partner_customer=customer, actor=request.user, **body.validated_data
        )
        return Response(s.PartnerCustomerSerializer(customer).data)

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(
        summary="Register up to 1,000 partner customers at once: all or none",
        request=s.BulkCustomersSerializer,
        responses={201: s.BulkCustomersResultSerializer},
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request):
        body = s.BulkCustomersSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rows = [{k: v for k, v in row.items() if k != "reason"} for row in body.validated_data["customers"]]
        created = vendor_services.import_partner_customers(
            vendor=_vendor(request), rows=rows, actor=request.user
        )
        return Response(
            {"created": s.PartnerCustomerSerializer(created, many=True).data}, status=status.HTTP_201_CREATED
        )


REF = OpenApiParameter("ref", str, OpenApiParameter.PATH, description="Tracking number, or a draft's id.")


@extend_schema_view(
    list=extend_schema(
        summary="Your access requests",
        parameters=[
            _param("status", "Only requests in this state."),
            _param("frontier_model", "Only requests for this model (id)."),
            _param("partner_customer", "Only requests for this customer (id)."),
        ],
    ),
    retrieve=extend_schema(
        summary="One access request", parameters=[REF], responses=s.AccessRequestDetailSerializer
    ),
    create=extend_schema(
        summary="Start a draft access request",
        request=s.DraftRequestSerializer,
        responses={201: s.AccessRequestDetailSerializer},
    ),
)
class AccessRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ApiViewSet
):
    serializer_class = s.AccessRequestSerializer
    lookup_field = "ref"
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        queryset = requests_visible_to(self.request.user).order_by("-pk")
        return _filter(
            queryset,
            self.request,
            status="status",
            frontier_model="frontier_model_id",
            partner_customer="partner_customer_id",
        )

    def _request(self, action="view"):
        return request_by_reference(self.request.user, self.kwargs["ref"], action)

    def _detail(self, access_request, code=status.HTTP_200_OK):
        fresh = requests_visible_to(self.request.user).prefetch_related(
            "documents", "information_requests__agency"
        )
        return Response(s.AccessRequestDetailSerializer(fresh.get(pk=access_request.pk)).data, status=code)

    def retrieve(self, request, *args, **kwargs):
        return self._detail(self._request())

    def create(self, request, *args, **kwargs):
        body = s.DraftRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        frontier_model = get_visible_or_404(
            request.user, FrontierModel.objects.all(), pk=data.pop("frontier_model")
        )
        customer = get_visible_or_404(
            request.user, PartnerCustomer.objects.all(), pk=data.pop("partner_customer")
        )
        access_request = approvals_services.create_draft_request(
            actor=request.user, frontier_model=frontier_model, partner_customer=customer, **data
        )
        return self._detail(access_request, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Attach a document to a draft (or a request that asks for one)",
        parameters=[REF],
        request={"multipart/form-data": s.DocumentUploadSerializer},
        responses={201: s.AccessRequestDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def documents(self, request, ref=None):
        access_request = self._request()
        body = s.DocumentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        access_request = approvals_services.attach_request_document(
            access_request=access_request,
            actor=request.user,
            uploaded_file=body.validated_data["file"],
            title=body.validated_data.get("title", ""),
        )
        return self._detail(
            getattr(access_request, "access_request", access_request), status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Submit a draft: the completeness check lists every defect at once",
        parameters=[REF],
        request=s.VersionedSerializer,
        responses={200: s.AccessRequestDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, ref=None):
        access_request = self._request()
        body = s.VersionedSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        access_request = approvals_services.submit_request(
            access_request=access_request, actor=request.user, **body.validated_data
        )
        return self._detail(access_request)

    @extend_schema(
        summary="Withdraw a request before its decision",
        parameters=[REF],
        request=s.WithdrawSerializer,
        responses={200: s.AccessRequestDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, ref=None):
        access_request = self._request()
        body = s.WithdrawSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        access_request = approvals_services.withdraw_request(
            access_request=access_request, actor=request.user, **body.validated_data
        )
        return self._detail(access_request)

    @extend_schema(
        summary="Answer an agency's information request",
        parameters=[REF, OpenApiParameter("question", int, OpenApiParameter.PATH)],
        request=s.AnswerSerializer,
        responses={200: s.AccessRequestDetailSerializer},
    )
    @action(detail=True, methods=["post"], url_path=r"information-requests/(?P<question>\d+)/answer")
    def answer(self, request, ref=None, question=None):
        access_request = self._request()
        information_request = access_request.information_requests.filter(pk=question).first()
        if information_request is None:
            raise Http404("No such question.")
        body = s.AnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        approvals_services.answer_information_request(
            information_request=information_request, actor=request.user, **body.validated_data
        )
        return self._detail(access_request)

    @extend_schema(
        summary="Respond to an intent to deny within its window",
        parameters=[REF],
        request=s.IntentResponseSerializer,
        responses={200: s.AccessRequestDetailSerializer},
    )
    @action(detail=True, methods=["post"], url_path="intent-to-deny-response")
    def respond(self, request, ref=None):
        access_request = self._request()
        body = s.IntentResponseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        approvals_services.respond_to_intent_to_deny(
            access_request=access_request, actor=request.user, **body.validated_data
        )
        return self._detail(access_request)


@extend_schema_view(
    list=extend_schema(summary="Decisions on your requests, with their letters"),
    retrieve=extend_schema(summary="One decision and its letter"),
)
class DecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = s.DecisionSerializer

    def get_queryset(self):
        requests = requests_visible_to(self.request.user).values("pk")
        return (
            Decision.objects.filter(access_request__in=requests)
            .select_related("access_request")
            .order_by("-pk")
        )


@extend_schema_view(
    list=extend_schema(
        summary="Your grants",
        parameters=[
            _param("status", "Only grants in this state.", ["active", "suspended", "revoked", "expired"]),
            _param("frontier_model", "Only grants for this model (id)."),
            _param("partner_customer", "Only grants for this customer (id)."),
        ],
    ),
    retrieve=extend_schema(summary="One grant"),
)
class GrantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = s.GrantSerializer

    def get_queryset(self):
        queryset = grants_visible_to(self.request.user).order_by("-pk")
        return _filter(
            queryset,
            self.request,
            status="status",
            frontier_model="frontier_model_id",
            partner_customer="partner_customer_id",
        )


@extend_schema_view(
    list=extend_schema(summary="Incident reports on your models"),
    retrieve=extend_schema(summary="One incident report"),
)
class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = s.IncidentSerializer

    def get_queryset(self):
        return incidents_visible_to(self.request.user).order_by("-pk")


@extend_schema_view(list=extend_schema(summary="Your notifications"))
class NotificationViewSet(mixins.ListModelMixin, ApiViewSet):
    serializer_class = s.NotificationSerializer

    def get_queryset(self):
        return notifications_for(self.request.user).order_by("-pk")
