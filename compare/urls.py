"""
URLs of the comparison page.

Not namespaced, unlike the other apps: the page's name ``compare`` is a public contract
(the site header's context processor and other parts of the project reverse it), so the
names here are plain and carry the ``compare`` prefix instead.
"""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.compare, name="compare"),
    path("revocation/", views.revocation_experiment, name="compare_revocation"),
    path("comparison.md", views.comparison_doc, name="compare_comparison_doc"),
]
