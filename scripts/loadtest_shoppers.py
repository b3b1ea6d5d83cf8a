"""
The load test's two kinds of client: a storefront shopper by session and HTML forms (with
CSRF), and an API shopper by bearer token (with an ``Idempotency-Key``).
"""

import random
import re
import uuid
from urllib.parse import urlsplit

from scripts.loadtest_http import Answer, HttpClient, OutOfBudget, Stats
from scripts.loadtest_shop import PASSWORD

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
IDEMPOTENCY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')
DONE_RE = re.compile(r"/checkout/done/(\d+)/$")


class StorefrontShopper:
    """Browse, add to the cart and check out through the HTML forms, signed in by session."""

    edge = "storefront"

    def __init__(self, client: HttpClient, *, email: str, slugs: list[str], rng: random.Random):
        self.client = client
        self.email = email
        self.slugs = slugs
        self.rng = rng

    def _csrf(self, answer: Answer) -> str:
        match = CSRF_RE.search(answer.body)
        if not match:
            raise AssertionError(f"no CSRF token on a {answer.status} page")
        return match.group(1)

    def sign_in(self) -> None:
        page = self.client.request("storefront sign-in page", "GET", "/accounts/login/")
        answer = self.client.request(
            "storefront sign-in",
            "POST",
            "/accounts/login/",
            form={
                "csrfmiddlewaretoken": self._csrf(page),
                "username": self.email,
                "password": PASSWORD,
            },
        )
        if answer.status != 302:
            self.client.stats.fail(f"storefront sign-in of {self.email} answered {answer.status}")

    def run_once(self) -> None:
        client = self.client
        client.request("storefront catalog", "GET", "/")
        slug = self.rng.choice(self.slugs)
        page = client.request("storefront product", "GET", f"/products/{slug}/")
        client.request(
            "storefront add to cart",
            "POST",
            f"/products/{slug}/",
            form={"csrfmiddlewaretoken": self._csrf(page), "quantity": self.rng.choice((1, 1, 2))},
        )
        if self.rng.random() < 0.3:
            client.request("storefront cart", "GET", "/cart/")
        checkout = client.request("storefront checkout page", "GET", "/checkout/")
        key = IDEMPOTENCY_RE.search(checkout.body)
        if key is None:  # An empty cart: nothing to place.
            return
        form = {"csrfmiddlewaretoken": self._csrf(checkout), "idempotency_key": key.group(1)}
        placed = client.request("storefront place order", "POST", "/checkout/", form=form)
        order_id = self._placed_order(placed)
        if order_id is None:
            self._empty_cart()
            return
        if self.rng.random() < 0.2:
            again = client.request("storefront place order again", "POST", "/checkout/", form=form)
            if self._placed_order(again) != order_id:
                client.stats.double_submit_mismatches.append(
                    f"storefront order {order_id} submitted again answered {again.status} "
                    f"{again.headers.get('location', '')}"
                )
        if self.rng.random() < 0.2:
            client.request("storefront orders", "GET", "/orders/")

    def _placed_order(self, answer: Answer) -> int | None:
        if answer.status != 302:
            return None
        match = DONE_RE.search(urlsplit(answer.headers.get("location", "")).path)
        if match is None:
            return None
        self.client.stats.order(self.edge, int(match.group(1)))
        return int(match.group(1))

    def _empty_cart(self) -> None:
        # The checkout was refused (stock ran out): clear the cart so the next round can buy.
        cart = self.client.request("storefront cart", "GET", "/cart/")
        token = CSRF_RE.search(cart.body)
        for product_id in set(re.findall(r'action="/cart/items/(\d+)/remove/"', cart.body)):
            self.client.request(
                "storefront remove from cart",
                "POST",
                f"/cart/items/{product_id}/remove/",
                form={"csrfmiddlewaretoken": token.group(1) if token else ""},
            )


class ApiShopper:
    """Sign in to the API and fill the cart and place orders by bearer token."""

    edge = "api"

    def __init__(self, client: HttpClient, *, email: str, product_ids: list[int], rng):
        self.client = client
        self.email = email
        self.product_ids = product_ids
        self.rng = rng
        self.access = ""
        self.refresh = ""
        self.rounds = 0

    def _auth(self) -> dict:
        return {"Authorization": f"Bearer {self.access}"}

    def sign_in(self) -> None:
        answer = self.client.request(
            "api token",
            "POST",
            "/api/auth/token/",
            body={"email": self.email, "password": PASSWORD},
        )
        if answer.status != 200:
            self.client.stats.fail(f"API sign-in of {self.email} answered {answer.status}")
            return
        self.access, self.refresh = answer.json()["access"], answer.json()["refresh"]

    def run_once(self) -> None:
        client = self.client
        self.rounds += 1
        if self.rounds % 10 == 0:
            answer = client.request(
                "api token refresh",
                "POST",
                "/api/auth/token/refresh/",
                body={"refresh": self.refresh},
            )
            if answer.status == 200:
                self.access, self.refresh = answer.json()["access"], answer.json()["refresh"]
            else:
                client.stats.fail(f"API refresh answered {answer.status}")
        client.request("api products", "GET", "/api/products/", headers=self._auth())
        client.request(
            "api add to cart",
            "POST",
            "/api/cart/items/",
            body={
                "product": self.rng.choice(self.product_ids),
                "quantity": self.rng.choice((1, 1, 2)),
            },
            headers=self._auth(),
        )
        if self.rng.random() < 0.3:
            client.request("api cart", "GET", "/api/cart/", headers=self._auth())
        headers = {**self._auth(), "Idempotency-Key": uuid.uuid4().hex}
        placed = client.request("api place order", "POST", "/api/orders/", headers=headers)
        if placed.status != 201:
            client.request("api empty cart", "DELETE", "/api/cart/", headers=self._auth())
            return
        order_id = placed.json()["id"]
        client.stats.order(self.edge, order_id)
        if self.rng.random() < 0.2:
            again = client.request("api place order again", "POST", "/api/orders/", headers=headers)
            if again.status != 201 or again.json()["id"] != order_id:
                client.stats.double_submit_mismatches.append(
                    f"API order {order_id} sent again answered {again.status} {again.body[:80]}"
                )


def shop(shopper, stats: Stats) -> None:
    """Run one client until the budget is spent; an unexpected error stops it and is reported."""
    try:
        shopper.sign_in()
        while not shopper.client.budget.over():
            shopper.run_once()
    except OutOfBudget:
        pass
    except OSError:
        pass  # Already recorded as a failed request.
    except Exception as exc:  # Broad on purpose: any surprise in a client is a finding.
        stats.fail(f"{shopper.edge} client {shopper.email} stopped: {exc!r}")
