"""The vendor's access requests at ``/vendor/requests/``: by tracking number, drafts by id."""

from django.urls import path

from approvals.vendor_pages import requests

app_name = "approvals"

urlpatterns = [
    path("", requests.request_list, name="list"),
    path("new/", requests.request_new, name="new"),
    path("<str:ref>/", requests.request_detail, name="detail"),
    path("<str:ref>/edit/", requests.request_edit, name="edit"),
    path("<str:ref>/documents/", requests.document_attach, name="attach"),
    path("<str:ref>/documents/<int:pk>/", requests.document_download, name="document"),
    path("<str:ref>/documents/<int:pk>/remove/", requests.document_remove, name="remove_document"),
    path("<str:ref>/submit/", requests.request_submit, name="submit"),
    path("<str:ref>/withdraw/", requests.request_withdraw, name="withdraw"),
    path("<str:ref>/discard/", requests.request_discard, name="discard"),
    path("<str:ref>/questions/<int:pk>/answer/", requests.question_answer, name="answer"),
    path("<str:ref>/intent-to-deny/respond/", requests.intent_respond, name="respond"),
    path("<str:ref>/letter/", requests.decision_letter, name="letter"),
]
