"""
The attacker's side of the XSS measurement (tests/browser/test_xss_exposure.py): an HTTP
server on another loopback origin that records whatever reaches it, and the attacker's own
process trying what it received against the site, with no browser and no cookie jar.
"""

import base64
import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.support.processes import free_port

# 127.0.0.1 while the site is served at localhost: another origin on the same machine.
ATTACKER_HOST = "127.0.0.1"


class AttackerServer:
    """A loopback HTTP server that answers 204 to everything and keeps (channel, data)."""

    def __init__(self):
        self.received: list[tuple[str, str]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def _record(self):
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                data = parse_qs(url.query).get("d", [body])[0]
                received.append((url.path.strip("/"), data))
                self.send_response(204)
                self.end_headers()

            do_GET = do_POST = _record

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((ATTACKER_HOST, free_port()), Handler)
        self.url = f"http://{ATTACKER_HOST}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def channels(self) -> set[str]:
        return {channel for channel, _ in self.received}

    def wait_for(self, channel: str, *, timeout: float = 5) -> bool:
        """Wait until something arrives on ``channel``; return whether it did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if channel in self.channels():
                return True
            time.sleep(0.05)
        return False

    def loot(self) -> dict[str, str]:
        """Every labelled value that arrived, on any channel (the script sends JSON)."""
        values = {}
        for _, data in self.received:
            try:
                values.update(json.loads(data))
            except (ValueError, TypeError):
                continue
        return values


def jwt_claims(token: str) -> dict:
    """The claims of a JWT, read as the attacker reads them: no key, no verification."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def call(base_url: str, method: str, path: str, *, headers=None, body=None) -> tuple[int, dict]:
    """
    Send one request from the attacker's process, following no redirect; return the status
    and the JSON body ({} if there is none).
    """
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - the live test server's http URL.
        base_url + path,
        data=data,
        method=method,
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            **(headers or {}),
        },
    )
    try:
        with _opener.open(request, timeout=10) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, {}
