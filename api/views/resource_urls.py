from rest_framework.routers import SimpleRouter

from api.views import resources

router = SimpleRouter()
router.register("models", resources.FrontierModelViewSet, basename="model")
router.register("customers", resources.PartnerCustomerViewSet, basename="customer")
router.register("access-requests", resources.AccessRequestViewSet, basename="access_request")
router.register("decisions", resources.DecisionViewSet, basename="decision")
router.register("grants", resources.GrantViewSet, basename="grant")
router.register("incidents", resources.IncidentViewSet, basename="incident")
router.register("notifications", resources.NotificationViewSet, basename="notification")

urlpatterns = router.urls
