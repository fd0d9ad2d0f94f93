"""One view: it reads the database, so an answer means the migrations ran."""

from django.contrib.auth.models import User
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from django.urls import path


def index(_request: HttpRequest) -> JsonResponse:
    cache.set("hits", (cache.get("hits") or 0) + 1)
    return JsonResponse({"users": User.objects.count(), "hits": cache.get("hits")})


urlpatterns = [path("", index)]
