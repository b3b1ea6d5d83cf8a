"""The browser client's page: a static shell with a strict Content-Security-Policy."""

import re

import pytest
from django.urls import reverse


@pytest.fixture
def app_page(client):
    return client.get(reverse("webclient:app"))


def csp_directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip()
    )


def test_the_client_page_is_served_at_app(app_page):
    assert app_page.status_code == 200
    assert app_page["Content-Type"].startswith("text/html")


def test_the_client_page_only_runs_scripts_from_its_own_origin(app_page):
    directives = csp_directives(app_page)

    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["require-trusted-types-for"] == "'script'"


def test_the_client_page_has_no_inline_script_and_loads_nothing_from_other_hosts(app_page):
    html = app_page.content.decode()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)

    assert scripts
    assert all(re.search(r'\bsrc="/static/', attributes) for attributes, _ in scripts)
    assert all(body.strip() == "" for _, body in scripts)
    assert not re.search(r"\son[a-z]+=", html)
    assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", html)


def test_the_client_page_is_the_same_for_everyone(client, user, password):
    anonymous = client.get(reverse("webclient:app"))
    client.login(email=user.email, password=password)
    signed_in = client.get(reverse("webclient:app"))

    assert anonymous.content == signed_in.content


def test_the_client_page_sets_the_csrf_cookie_and_names_it(client, settings):
    response = client.get(reverse("webclient:app"))

    assert list(response.cookies) == [settings.CSRF_COOKIE_NAME]
    assert f'data-csrf-cookie-name="{settings.CSRF_COOKIE_NAME}"' in response.content.decode()


def test_the_client_page_offers_local_storage_only_as_a_labelled_demo(client, settings):
    html = client.get(reverse("webclient:app")).content.decode()
    assert 'data-localstorage-demo="true"' in html
    assert 'value="localstorage"' in html
    assert "the pattern to avoid" in html

    settings.WEBCLIENT_LOCALSTORAGE_DEMO = False
    html = client.get(reverse("webclient:app")).content.decode()
    assert 'data-localstorage-demo="false"' in html
    assert 'value="localstorage"' not in html


def test_the_client_page_refuses_to_be_posted_to(client):
    assert client.post(reverse("webclient:app")).status_code == 405
