"""
Take the documentation's screenshots of the running site (``make screenshots``).

Serve the site (``config.settings.local``, gunicorn) on a free loopback port over a
throwaway SQLite database, migrated and loaded with the demo data (``seed_demo``), with its
generated keys in a temporary directory; then drive Debian's Chromium through Playwright,
signed in as the demo shopper, and write one PNG per entry of SCREENSHOTS to
docs/screenshots/. Nothing outside that folder is changed, and no Redis is used.

Run with the project's virtualenv python from the repository root:
``.venv/bin/python scripts/screenshots.py``. tests/test_screenshots.py checks that the docs
show exactly the files listed here, so a new picture is added in both places.
"""

import argparse
import os
import secrets
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.processes import Gunicorn, manage  # noqa: E402 - needs the repository root on sys.path.

OUTPUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 800}
# The demo accounts of shop/demo.py (kept literal here: this script does not set up Django).
SHOPPER = "alice@example.com"
PASSWORD = "demo-pass-2026"  # noqa: S105 - the demo password the README documents.
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)

# Each picture: its file in docs/screenshots/ and what it shows.
SCREENSHOTS = {
    "storefront-catalog.png": "the storefront's catalog, signed in by a session",
    "storefront-cart.png": "the storefront's cart with two products",
    "devices.png": "Your devices: two browser sessions and an API client, each revocable",
    "compare.png": "/compare/: what the client holds, cookie and token pair decoded",
    "compare-revocation.png": "/compare/: the revocation experiment's result",
    "app.png": "the browser client at /app/, signed in to the API with JWTs",
}


def site_env(state_dir: Path) -> dict[str, str]:
    """The site's environment: the local settings over a throwaway database and keys."""
    passed = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return {
        **passed,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"sqlite:///{state_dir / 'db.sqlite3'}",
        "LOCAL_STATE_DIR": str(state_dir),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(48),
    }


def sign_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(SHOPPER)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def add_to_cart(page, base_url: str, slug: str, quantity: int) -> None:
    page.goto(f"{base_url}/products/{slug}/")
    page.get_by_label("Quantity").fill(str(quantity))
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url("**/cart/")


def client_sign_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/app/")
    page.wait_for_selector("body[data-ready=true]")
    page.get_by_label("Email").fill(SHOPPER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Products").wait_for()
    # The heading is there before the first page of products: wait for its rows.
    page.wait_for_selector("#products-body tr")


def take(browser, base_url: str, output: Path) -> list[Path]:
    """Visit each page and write its picture; return the files written, in order."""
    shots = []

    def save(page, name: str, **options) -> None:
        path = output / name
        (options.pop("element", None) or page).screenshot(path=path, **options)
        shots.append(path)

    # Another device first, so that Your devices lists more than this browser.
    phone = browser.new_context(user_agent=PHONE, viewport={"width": 390, "height": 800})
    sign_in(phone.new_page(), base_url)
    phone.close()

    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, base_url)
    save(page, "storefront-catalog.png")

    add_to_cart(page, base_url, "classic-field-guide", 1)
    add_to_cart(page, base_url, "pocket-cold-brew-kit", 2)
    save(page, "storefront-cart.png")

    client = context.new_page()
    client_sign_in(client, base_url)
    save(client, "app.png")

    page.goto(f"{base_url}/accounts/devices/")
    save(page, "devices.png")

    page.goto(f"{base_url}/compare/")
    save(page, "compare.png", element=page.locator("#client"))

    page.get_by_role("button", name="Run the revocation experiment").click()
    page.wait_for_selector("[data-testid=experiment]")
    save(page, "compare-revocation.png", element=page.locator("#revocation"))
    context.close()
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help="folder for the PNGs")
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="screenshots-") as state:
        state_dir = Path(state)
        env = site_env(state_dir)
        manage("migrate", "--noinput", env=env, check=True)
        manage("seed_demo", env=env, check=True)
        with (
            Gunicorn(env=env, log_path=state_dir / "gunicorn.log", workers=2) as site,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                shots = take(browser, site.url, args.output)
            finally:
                browser.close()
    taken = [path.name for path in shots]
    if sorted(taken) != sorted(SCREENSHOTS):
        # The docs show SCREENSHOTS (tests/test_screenshots.py): take exactly those.
        print(f"took {taken}, but SCREENSHOTS lists {list(SCREENSHOTS)}", file=sys.stderr)
        return 1
    for path in shots:
        print(
            f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
            f"{path.stat().st_size // 1024} KB, {SCREENSHOTS[path.name]}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
