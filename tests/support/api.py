"""
Helpers for API tests: obtain a token pair, send a bearer token or a CSRF token, drive the
browser token endpoints, read a token without verifying it, forge one by hand, make
throwaway key pairs, read the lines of a key rotation, and send JSON to a server of our own
over HTTP.
"""

import base64
import http.client
import json
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.conf import settings
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.urls import reverse
from django.utils.crypto import get_random_string
from rest_framework.test import APIClient


def obtain(client, email, password, **extra):
    """Post the credentials to the token endpoint; return the response."""
    return client.post(
        reverse("api:token_obtain"), {"email": email, "password": password}, format="json", **extra
    )


def csrf_cookie_set(client) -> dict:
    """
    Give the client a Django CSRF cookie, as a page with ensure_csrf_cookie would; return
    the request headers (as test-client keyword arguments) that send its token back.
    """
    token = get_random_string(CSRF_SECRET_LENGTH, allowed_chars=CSRF_ALLOWED_CHARS)
    client.cookies[settings.CSRF_COOKIE_NAME] = token
    return {"HTTP_X_CSRFTOKEN": token}


class BrowserTokenClient:
    """
    A test client for the browser token endpoints: it keeps the cookies and sends the CSRF
    token, as the /app/ page's script does.
    """

    def __init__(self):
        self.client = APIClient(enforce_csrf_checks=True)
        self.csrf = csrf_cookie_set(self.client)

    def post(self, name: str, body=None, **extra):
        return self.client.post(reverse(f"api:{name}"), body, format="json", **self.csrf, **extra)

    def sign_in(self, email: str, password: str):
        return self.post("browser_token_obtain", {"email": email, "password": password})

    def refresh(self):
        return self.post("browser_token_refresh")

    def logout(self):
        return self.post("browser_logout")

    @property
    def cookie(self) -> str:
        """The refresh cookie's value as the browser holds it ("" once cleared)."""
        morsel = self.client.cookies.get(settings.BROWSER_REFRESH_COOKIE_NAME)
        return morsel.value if morsel else ""

    @cookie.setter
    def cookie(self, value: str) -> None:
        self.client.cookies[settings.BROWSER_REFRESH_COOKIE_NAME] = value


def bearer(token: str) -> dict:
    """The request headers (as test-client keyword arguments) that send ``token``."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, payload: dict, signature: bytes = b"") -> str:
    """Build a JWT by hand, for the tokens PyJWT refuses to make (alg none, empty key...)."""
    return ".".join(
        [
            b64url(json.dumps(header).encode()),
            b64url(json.dumps(payload).encode()),
            b64url(signature),
        ]
    )


def claims_of(token: str) -> dict:
    """Return a token's claims without verifying it (for assertions only)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def header_of(token: str) -> dict:
    """Return a token's header without verifying it (for assertions only)."""
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))


def make_key_pair(algorithm: str, directory) -> tuple[str, str]:
    """Write a throwaway key pair for RS256 or EdDSA into ``directory``; return the paths."""
    if algorithm == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    private_path = directory / f"{algorithm}-private.pem"
    public_path = directory / f"{algorithm}-public.pem"
    private_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return str(private_path), str(public_path)


def rotation_lines(output: str) -> tuple[dict[str, str], dict[str, str]]:
    """
    Return the environment lines ``manage.py jwt_key_generate`` prints: those of the
    rotation, then those that retire the old key.
    """
    rotate, retire, block = {}, {}, None
    for line in output.splitlines():
        if line.startswith("# Rotate"):
            block = rotate
        elif line.startswith("# Retire"):
            block = retire
        elif line and not line.startswith("#"):
            name, _, value = line.partition("=")
            block[name] = value
    return rotate, retire


def json_request(method: str, url: str, body=None, *, token: str | None = None, timeout=30):
    """Send JSON (with a bearer token); return (status, decoded JSON, or the text if not JSON)."""
    parts = urlsplit(url)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body)
        connection.request(method, parts.path, body=payload, headers=headers)
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()
    try:
        return response.status, json.loads(answer)
    except ValueError:
        return response.status, answer.decode(errors="replace")
