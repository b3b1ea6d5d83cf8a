from django.contrib import admin
from django.urls import include, path

from api.views import jwks

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path(".well-known/jwks.json", jwks, name="jwks"),
    path("", include("shop.urls")),
]
