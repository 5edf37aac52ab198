"""The project's routes plus ``/bench/constant/``: a bare view returning a constant JSON body."""

from django.http import JsonResponse
from django.urls import include, path

BODY = {"cleared": True, "reason": "cleared"}


def constant(request):
    return JsonResponse(BODY)


urlpatterns = [path("bench/constant/", constant), path("", include("portal.urls"))]
