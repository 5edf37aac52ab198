from django.shortcuts import redirect
from django.urls import path


def root(request):
    if request.user.is_authenticated:
        return redirect(request.user.home_url())
    return redirect("accounts:login")


urlpatterns = [path("", root, name="root")]
