"""URLs of the benchmark server: the project's, plus a bare view served the same way."""

from django.http import HttpResponse
from django.urls import path

from .urls import urlpatterns as project_urlpatterns


def bare(request):
    """No database, no template: what Django and the server cost by themselves."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare, name="bench_bare"), *project_urlpatterns]
