"""The vendor's enforcement pages, mounted at ``/vendor/`` ahead of the registry's own addresses."""

from django.urls import path

from approvals import views_enforcement as views

app_name = "enforcement"

urlpatterns = [
    path("models/<int:pk>/review/", views.review_submit, name="review_submit"),
    path("models/<int:pk>/incidents/new/", views.incident_new, name="incident_new"),
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident_detail"),
    path("incidents/<int:pk>/complete/", views.incident_complete, name="incident_complete"),
    path("designation/", views.designation, name="designation"),
    path("grants/", views.grant_list, name="grant_list"),
    path("grants/<int:pk>/renew/", views.grant_renew, name="grant_renew"),
    path("enforcement/<int:pk>/", views.action_detail, name="action_detail"),
]
