"""The vendor's enforcement pages, mounted at ``/vendor/`` ahead of the registry's own addresses:
pre-release review, incidents, designation, grants, enforcement notices and letters."""

from django.urls import path

from approvals.vendor_pages import enforcement, letters

app_name = "enforcement"

urlpatterns = [
    path("models/<int:pk>/review/", enforcement.review_submit, name="review_submit"),
    path("models/<int:pk>/incidents/new/", enforcement.incident_new, name="incident_new"),
    path("incidents/", enforcement.incident_list, name="incident_list"),
    path("incidents/<int:pk>/", enforcement.incident_detail, name="incident_detail"),
    path("incidents/<int:pk>/complete/", enforcement.incident_complete, name="incident_complete"),
    path("designation/", enforcement.designation, name="designation"),
    path("grants/", enforcement.grant_list, name="grant_list"),
    path("grants/<int:pk>/renew/", enforcement.grant_renew, name="grant_renew"),
    path("enforcement/<int:pk>/", enforcement.action_detail, name="action_detail"),
    path("enforcement/<int:pk>/attest/", enforcement.attest_cutoff, name="attest_cutoff"),
    path("letters/<str:reference>/", letters.letter_page, name="letter"),
    path("letters/<str:reference>/pdf/", letters.letter_pdf, name="letter_pdf"),
]
