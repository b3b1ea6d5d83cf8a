"""
Two ways to send one request to the site: over HTTP to a running server, or in process
through the WSGI application (the full middleware stack, exactly as gunicorn calls it).

The sign-in code in ``credentials`` runs over either: over HTTP for the load runs, in
process for the scale step's real session and the token-table count.
"""

import http.client
import io
import json
import sys
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """Return the first header called ``name`` (case-insensitive), or None."""
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)

    def set_cookie_headers(self) -> list[str]:
        return [value for key, value in self.headers if key.lower() == "set-cookie"]

    def json(self):
        return json.loads(self.body)

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class CookieJar:
    """The cookies a browser would send back to one host (paths and expiry ignored)."""

    def __init__(self):
        self.cookies: dict[str, str] = {}

    def update(self, response: Response) -> None:
        for raw in response.set_cookie_headers():
            parsed = SimpleCookie()
            parsed.load(raw)
            for name, morsel in parsed.items():
                # Django deletes a cookie by setting it empty with max-age=0.
                if morsel.value == "" or morsel["max-age"] in ("0", 0):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())


class HttpTransport:
    """Send requests to a server on loopback, one connection per request."""

    def __init__(self, *, host: str = LOOPBACK, port: int, timeout: float = 10.0):
        self.host = host
        self.port = port
        self.timeout = timeout

    def request(self, method: str, path: str, *, headers=None, body: bytes = b"") -> Response:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body or None, headers=dict(headers or {}))
            answer = connection.getresponse()
            return Response(answer.status, answer.getheaders(), answer.read())
        finally:
            connection.close()


class WsgiTransport:
    """Call a WSGI application in this process, as a server on loopback would."""

    def __init__(self, application, *, host: str = LOOPBACK):
        self.application = application
        self.host = host

    def environ(self, method: str, path: str, *, headers=None, body: bytes = b"") -> dict:
        parts = urlsplit(path)
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "SERVER_NAME": self.host,
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": LOOPBACK,
            "HTTP_HOST": self.host,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in (headers or {}).items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            else:
                environ[f"HTTP_{key}"] = value
        return environ

    def request(self, method: str, path: str, *, headers=None, body: bytes = b"") -> Response:
        started: dict = {}

        def start_response(status, response_headers, exc_info=None):
            started["status"] = int(status.split(" ", 1)[0])
            started["headers"] = list(response_headers)

        result = self.application(
            self.environ(method, path, headers=headers, body=body), start_response
        )
        try:
            content = b"".join(result)
        finally:
            # Closing the response fires request_finished, which closes or recycles the
            # database connection exactly as it would under gunicorn.
            if hasattr(result, "close"):
                result.close()
        return Response(started["status"], started["headers"], content)
