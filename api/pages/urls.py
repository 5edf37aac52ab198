from django.urls import path

from api.pages import views

app_name = "api_pages"

urlpatterns = [
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/new/", views.token_new, name="token_new"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/new/", views.webhook_new, name="webhook_new"),
    path("webhooks/<int:pk>/off/", views.webhook_off, name="webhook_off"),
    path("webhooks/deliveries/<int:pk>/redeliver/", views.webhook_redeliver, name="webhook_redeliver"),
    path("cleared/", views.entitlement_lookup, name="entitlement_lookup"),
]
