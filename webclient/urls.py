from django.urls import path

from . import views

app_name = "webclient"

urlpatterns = [
    path("", views.app, name="app"),
]
