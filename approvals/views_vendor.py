from django.http import Http404


def _todo(request, *args, **kwargs):
    raise Http404


request_list = request_new = request_detail = request_edit = document_attach = document_download = _todo
document_remove = request_submit = request_withdraw = request_discard = question_answer = _todo
intent_respond = decision_letter = _todo
