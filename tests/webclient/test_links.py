"""The ways between the storefront, the comparison page and the browser client."""

import re

import pytest
from django.urls import reverse


def links(response) -> set[str]:
    return set(re.findall(r'<a\b[^>]*\bhref="([^"#]+)"', response.content.decode()))


@pytest.mark.django_db
def test_the_storefront_navigation_links_to_the_browser_client(client):
    catalog = client.get(reverse("shop:catalog"))

    assert reverse("webclient:app") in links(catalog)


@pytest.mark.django_db
def test_the_comparison_page_links_to_the_browser_client(client):
    compare = client.get(reverse("compare"))

    assert reverse("webclient:app") in links(compare)


def test_the_browser_client_links_back_to_the_storefront_and_the_comparison_page(client):
    app = client.get(reverse("webclient:app"))

    assert {reverse("shop:catalog"), reverse("compare")} <= links(app)
