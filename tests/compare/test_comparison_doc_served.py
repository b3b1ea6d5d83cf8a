"""/compare/comparison.md: the written comparison the page names, served from the repository."""

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_written_comparison_is_served_as_markdown_exactly_as_in_the_repository(client):
    response = client.get(reverse("compare_comparison_doc"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    doc = settings.BASE_DIR / "docs" / "comparison.md"
    assert response.content.decode() == doc.read_text(encoding="utf-8")


def test_the_comparison_page_links_the_written_comparison(client):
    response = client.get(reverse("compare"))

    link = f'<a href="{reverse("compare_comparison_doc")}" data-testid="comparison-doc">'
    assert link in response.content.decode()


def test_the_written_comparison_takes_no_posts(client):
    assert client.post(reverse("compare_comparison_doc")).status_code == 405
