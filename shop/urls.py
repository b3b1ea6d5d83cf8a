from django.urls import path

from . import views

app_name = "shop"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("products/<slug:slug>/", views.product_detail, name="product_detail"),
    path("healthz", views.healthz, name="healthz"),
]
