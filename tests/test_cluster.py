"""
Scale-out: HAProxy in front of three instances of the site (``--instances 3``: any number
from two works the same) sharing PostgreSQL and Redis, and a resource server holding nothing
but the public key, started by ``scripts/cluster.py`` as ``make cluster`` does (one gunicorn
worker each here, to start faster). Redis here is the suite's own; tests/test_failover.py
runs the cluster on its own Redis with Sentinels, as ``make cluster`` does, and kills the
primary.

HAProxy balances round robin with no stickiness and names the instance that answered in
``X-Served-By``, so one browser's requests go to A, B and C in turn. Through HAProxy: a
session stays signed in on every instance, a token works on every one, a sign-out through
one is seen through the others, the instances see the client's address, and a stopped
instance is taken out while the site keeps answering. Straight to A and B, to pin which
instance does what: a token asked of A for the resource server (RFC 8707 ``resource``)
works there, each service refuses the other's tokens, and revocations on A are seen by B at
once. What does not hold, by design: the resource server has no denylist, so an access
token it has been given stays valid there until it expires.
"""

import http.client
import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit, urlunsplit

import pytest
import redis as redis_lib

from scripts.cluster import (
    AudienceCheck,
    ClusterConfig,
    audience_checks,
    cluster,
    database_drop,
    proxy_server_states,
)
from shop.demo import DEMO_PASSWORD
from tests.support.processes import free_ports
from tests.support.services import TEST_REDIS_URL, service_unavailable

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

EMAIL = "alice@example.com"
ACCESS_LIFETIME_SECONDS = 5


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Agent:
    """An HTTP client with its own cookie jar, as one browser is; it may talk to any instance."""

    cookies: dict[str, str] = field(default_factory=dict)
    # The loopback address the agent connects from, so tests can tell clients apart.
    source: str = "127.0.0.1"

    def request(
        self,
        method: str,
        url: str,
        *,
        json_body=None,
        form=None,
        token=None,
        csrf=False,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        parts = urlsplit(url)
        headers = dict(headers or {})
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if csrf:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection(
            parts.hostname, parts.port, timeout=15, source_address=(self.source, 0)
        )
        try:
            connection.request(method, parts.path or "/", body=body, headers=headers)
            response = connection.getresponse()
            answer = Answer(response.status, response.headers, response.read())
        finally:
            connection.close()
        for header in answer.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return answer


def storefront_sign_in(agent: Agent, base: str) -> None:
    agent.request("GET", f"{base}/accounts/login/")
    answer = agent.request(
        "POST",
        f"{base}/accounts/login/",
        form={
            "username": EMAIL,
            "password": DEMO_PASSWORD,
            "csrfmiddlewaretoken": agent.cookies["csrftoken"],
        },
    )
    assert answer.status == 302, answer.body[:500]


def token_pair(base: str, resource: str | None = None) -> dict:
    body = {"email": EMAIL, "password": DEMO_PASSWORD}
    if resource is not None:
        body["resource"] = resource
    answer = Agent().request("POST", f"{base}/api/auth/token/", json_body=body)
    assert answer.status == 200, answer.body
    return answer.json()


def _cluster_database_url() -> str:
    """The suite's PostgreSQL server, and a database of this test's own: <suite db>_cluster."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"{parts.path}_cluster"))


@pytest.fixture(scope="module")
def shop_cluster():
    """
    The cluster, started once for the module. Each test makes its own sign-ins: the suite
    empties its Redis database before every test (tests/conftest.py), the cluster's
    sessions and denylist included.
    """
    if shutil.which("haproxy") is None:
        service_unavailable("haproxy is not installed (Debian's haproxy package)")
    *ports, proxy_port = free_ports(5)
    config = ClusterConfig(
        database_url=_cluster_database_url(),
        redis_url=TEST_REDIS_URL,
        instances=3,
        ports=tuple(ports),
        proxy_port=proxy_port,
        workers=1,
        cache_key_prefix=f"cluster-test-{secrets.token_hex(4)}",
        access_lifetime_seconds=ACCESS_LIFETIME_SECONDS,
        leeway_seconds=0,
        fresh_database=True,
    )
    try:
        with cluster(config) as running:
            yield running
    finally:
        database_drop(config.database_url)
        client = redis_lib.Redis.from_url(TEST_REDIS_URL)
        keys = list(client.scan_iter(f"{config.cache_key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)


def served_by(answer: Answer) -> str:
    return answer.headers["X-Served-By"]


def test_haproxy_alternates_between_the_instances_whatever_the_cookies(shop_cluster):
    browser = Agent()
    storefront_sign_in(browser, shop_cluster.site)

    answers = [browser.request("GET", f"{shop_cluster.site}/accounts/me/") for _ in range(6)]

    assert [answer.status for answer in answers] == [200] * 6
    instances = [served_by(answer) for answer in answers]
    # Round robin: each instance once, then the same order again.
    assert sorted(instances[:3]) == ["a", "b", "c"]
    assert instances[3:] == instances[:3]


def test_a_session_made_through_haproxy_stays_signed_in_on_every_instance(shop_cluster):
    browser = Agent()
    storefront_sign_in(browser, shop_cluster.site)

    answers = [browser.request("GET", f"{shop_cluster.site}/accounts/me/") for _ in range(4)]

    assert {served_by(answer) for answer in answers} == {"a", "b", "c"}
    assert {(answer.status, answer.json()["email"]) for answer in answers} == {(200, EMAIL)}


def test_a_token_from_haproxy_works_on_every_instance(shop_cluster):
    access = token_pair(shop_cluster.site)["access"]

    answers = [
        Agent().request("GET", f"{shop_cluster.site}/api/me/", token=access) for _ in range(4)
    ]

    assert {served_by(answer) for answer in answers} == {"a", "b", "c"}
    assert {(answer.status, answer.json()["email"]) for answer in answers} == {(200, EMAIL)}


def test_a_sign_out_through_one_instance_is_seen_through_the_other(shop_cluster):
    browser = Agent()
    storefront_sign_in(browser, shop_cluster.site)
    copy_of_the_cookie = Agent(cookies={"sessionid": browser.cookies["sessionid"]})

    signed_out = browser.request("POST", f"{shop_cluster.site}/accounts/logout/", csrf=True)
    afterwards = [
        copy_of_the_cookie.request("GET", f"{shop_cluster.site}/accounts/me/") for _ in range(2)
    ]

    assert signed_out.status == 302
    assert {served_by(answer) for answer in [signed_out, *afterwards]} == {"a", "b", "c"}
    assert [answer.status for answer in afterwards] == [401, 401]


def test_the_instances_see_the_clients_address_not_haproxys(shop_cluster):
    # HAProxy connects to the instances from 127.0.0.2 and passes the client's address in
    # the PROXY protocol; the sign-in list (and the lockout) must show the client's.
    pair = (
        Agent(source="127.0.0.3")
        .request(
            "POST",
            f"{shop_cluster.site}/api/auth/token/",
            json_body={"email": EMAIL, "password": DEMO_PASSWORD},
        )
        .json()
    )

    sign_ins = Agent().request("GET", f"{shop_cluster.site}/api/sessions/", token=pair["access"])

    assert [row["ip_address"] for row in sign_ins.json() if row["current"]] == ["127.0.0.3"]


def test_signing_out_everywhere_else_on_a_ends_sessions_and_tokens_on_b(shop_cluster):
    laptop, phone = Agent(), Agent()
    storefront_sign_in(laptop, shop_cluster.a)
    storefront_sign_in(phone, shop_cluster.b)
    app = token_pair(shop_cluster.b)

    laptop.request("POST", f"{shop_cluster.a}/accounts/devices/sign-out-others/", csrf=True)

    assert phone.request("GET", f"{shop_cluster.b}/accounts/me/").status == 401
    refresh = Agent().request(
        "POST", f"{shop_cluster.b}/api/auth/token/refresh/", json_body={"refresh": app["refresh"]}
    )
    assert refresh.status == 401
    assert laptop.request("GET", f"{shop_cluster.b}/accounts/me/").status == 200


def test_a_token_from_a_works_on_b_and_is_refused_by_the_resource_server(shop_cluster):
    access = token_pair(shop_cluster.a)["access"]

    on_b = Agent().request("GET", f"{shop_cluster.b}/api/me/", token=access)
    on_resource_server = Agent().request(
        "GET", f"{shop_cluster.resource_server}/whoami", token=access
    )

    assert (on_b.status, on_b.json()["email"]) == (200, EMAIL)
    assert on_resource_server.status == 401
    assert on_resource_server.json()["detail"] == "The token is not for this service."


def test_a_token_asked_for_the_resource_server_works_there_and_is_refused_on_b(shop_cluster):
    access = token_pair(shop_cluster.a, shop_cluster.resource_server_audience)["access"]

    on_resource_server = Agent().request(
        "GET", f"{shop_cluster.resource_server}/whoami", token=access
    )
    on_b = Agent().request("GET", f"{shop_cluster.b}/api/me/", token=access)

    assert (on_resource_server.status, on_resource_server.json()["email"]) == (200, EMAIL)
    assert on_b.status == 401


def test_make_cluster_shows_each_service_refusing_the_others_tokens(shop_cluster):
    checks = audience_checks(shop_cluster, email=EMAIL, password=DEMO_PASSWORD)

    assert checks == [
        AudienceCheck("shop API", "shop API", 200),
        AudienceCheck("shop API", "resource server", 401),
        AudienceCheck("resource server", "shop API", 401),
        AudienceCheck("resource server", "resource server", 200),
    ]


def test_the_resource_server_refuses_a_refresh_token(shop_cluster):
    refresh = token_pair(shop_cluster.a)["refresh"]

    answer = Agent().request("GET", f"{shop_cluster.resource_server}/whoami", token=refresh)

    assert answer.status == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_a_refresh_token_revoked_on_a_is_refused_on_b(shop_cluster):
    pair = token_pair(shop_cluster.a)
    logout = Agent().request(
        "POST", f"{shop_cluster.a}/api/auth/logout/", json_body={"refresh": pair["refresh"]}
    )

    refresh = Agent().request(
        "POST", f"{shop_cluster.b}/api/auth/token/refresh/", json_body={"refresh": pair["refresh"]}
    )

    assert logout.status == 204
    assert refresh.status == 401


def test_an_access_token_revoked_on_a_is_refused_on_b_at_once(shop_cluster):
    pair = token_pair(shop_cluster.a)
    Agent().request(
        "POST", f"{shop_cluster.a}/api/auth/logout/", json_body={"refresh": pair["refresh"]}
    )

    answer = Agent().request("GET", f"{shop_cluster.b}/api/me/", token=pair["access"])

    assert answer.status == 401


def test_the_resource_server_accepts_a_revoked_access_token_until_it_expires(shop_cluster):
    # Documented behaviour, not a bug: the resource server shares no state with the shop,
    # so it cannot hear about a sign-out. Short access-token lifetimes bound the damage.
    pair = token_pair(shop_cluster.a, shop_cluster.resource_server_audience)
    Agent().request(
        "POST", f"{shop_cluster.a}/api/auth/logout/", json_body={"refresh": pair["refresh"]}
    )
    whoami = f"{shop_cluster.resource_server}/whoami"

    still_accepted = Agent().request("GET", whoami, token=pair["access"])
    assert still_accepted.status == 200
    time.sleep(max(0, still_accepted.json()["exp"] - time.time()) + 0.5)
    after_expiry = Agent().request("GET", whoami, token=pair["access"])

    assert (after_expiry.status, after_expiry.json()["detail"]) == (401, "The token has expired.")


def test_haproxy_takes_a_stopped_instance_out_and_keeps_answering(shop_cluster):
    # Last in the module: it stops B, and starts it again for whatever runs after.
    access = token_pair(shop_cluster.site)["access"]
    shop_cluster.servers["b"].stop()
    try:
        answers = []
        deadline = time.monotonic() + 5
        while proxy_server_states(shop_cluster)["b"] != "DOWN":
            assert time.monotonic() < deadline, "HAProxy still sends to the stopped B"
            answers.append(Agent().request("GET", f"{shop_cluster.site}/api/me/", token=access))
            time.sleep(0.1)
        answers += [
            Agent().request("GET", f"{shop_cluster.site}/api/me/", token=access) for _ in range(4)
        ]

        assert {answer.status for answer in answers} == {200}
        assert {served_by(answer) for answer in answers} == {"a", "c"}
    finally:
        shop_cluster.servers["b"].start()
        shop_cluster.servers["b"].wait_until_serving()
