"""Signing in as a client would: the login form's CSRF field, cookies, the token's header."""

import jwt
import pytest
from django.http import HttpResponse

from bench.credentials import csrf_field, token_algorithm
from bench.transport import CookieJar, Response


def _response_setting_cookies(response: HttpResponse) -> Response:
    # The Set-Cookie headers exactly as Django's WSGI handler emits them.
    headers = [("Set-Cookie", cookie.output(header="")) for cookie in response.cookies.values()]
    return Response(status=response.status_code, headers=headers, body=b"")


def test_csrf_field_is_read_from_django_s_hidden_input():
    html = '<form><input type="hidden" name="csrfmiddlewaretoken" value="abc123XYZ"></form>'
    assert csrf_field(html) == "abc123XYZ"


def test_csrf_field_is_read_whatever_the_attribute_order():
    html = "<input value='tok-9' type='hidden' name='csrfmiddlewaretoken'>"
    assert csrf_field(html) == "tok-9"


def test_a_page_without_the_field_gives_none():
    assert csrf_field("<form><input name='email'></form>") is None


def test_cookie_jar_keeps_what_the_server_set_and_forgets_what_it_deleted():
    jar = CookieJar()
    first = HttpResponse()
    first.set_cookie("csrftoken", "c1", samesite="Lax")
    first.set_cookie("sessionid", "s1", httponly=True, max_age=1209600)
    jar.update(_response_setting_cookies(first))
    assert jar.header() == "csrftoken=c1; sessionid=s1"
    logout = HttpResponse()
    logout.delete_cookie("sessionid")
    jar.update(_response_setting_cookies(logout))
    assert jar.cookies == {"csrftoken": "c1"}


@pytest.mark.parametrize("algorithm", ["HS256", "ES256"])
def test_token_algorithm_is_read_from_the_jwt_header(algorithm):
    if algorithm == "HS256":
        key = "a-test-key-long-enough-for-hs256-0123456789"
    else:
        from bench.micro import generate_key_pair

        key = generate_key_pair("ES256")[0]
    token = jwt.encode({"sub": "1"}, key, algorithm=algorithm)
    assert token_algorithm(token) == algorithm


def test_token_algorithm_of_garbage_is_none():
    assert token_algorithm("not-a-jwt") is None
