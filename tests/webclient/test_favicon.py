"""
The site's icon: every page links one that is served, and /favicon.ico (which browsers ask
for on their own, on every page) leads to it rather than to a 404.
"""

import re
from urllib.request import urlopen

import pytest
from django.urls import reverse

ICON_LINK = re.compile(r'<link rel="icon" href="([^"]+)"')


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["shop:catalog", "compare", "webclient:app"])
def test_every_page_links_an_icon_that_is_served(live_server, name):
    with urlopen(live_server.url + reverse(name)) as page:  # noqa: S310 (the live server)
        (href,) = ICON_LINK.findall(page.read().decode())

    with urlopen(live_server.url + href) as icon:  # noqa: S310
        assert icon.status == 200
        assert icon.headers["Content-Type"] == "image/svg+xml"


@pytest.mark.django_db
def test_favicon_ico_leads_to_the_sites_icon(client, live_server):
    answer = client.get(reverse("favicon"))
    assert answer.status_code == 302

    with urlopen(live_server.url + answer["Location"]) as icon:  # noqa: S310
        assert icon.status == 200
        assert icon.headers["Content-Type"] == "image/svg+xml"
