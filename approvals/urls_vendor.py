"""The vendor's access requests at ``/vendor/requests/``: by tracking number, drafts by id."""

from django.urls import path

from approvals import views_vendor as views

app_name = "approvals"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/", views.request_new, name="new"),
    path("<str:ref>/", views.request_detail, name="detail"),
    path("<str:ref>/edit/", views.request_edit, name="edit"),
    path("<str:ref>/documents/", views.document_attach, name="attach"),
    path("<str:ref>/documents/<int:pk>/", views.document_download, name="document"),
    path("<str:ref>/documents/<int:pk>/remove/", views.document_remove, name="remove_document"),
    path("<str:ref>/submit/", views.request_submit, name="submit"),
    path("<str:ref>/withdraw/", views.request_withdraw, name="withdraw"),
    path("<str:ref>/discard/", views.request_discard, name="discard"),
    path("<str:ref>/questions/<int:pk>/answer/", views.question_answer, name="answer"),
    path("<str:ref>/intent-to-deny/respond/", views.intent_respond, name="respond"),
    path("<str:ref>/letter/", views.decision_letter, name="letter"),
]
