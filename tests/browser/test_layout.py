"""
Every page fits the screen, at a laptop's 1280 px and a phone's 390 px, in Debian's Chromium
driven by Playwright: the storefront, the comparison page, the browser client and this
project's admin pages. "Fits" means the page itself never scrolls sideways (a wide table may
scroll inside its own box), and on "Your devices" no button or header breaks over two lines.
"""

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.models import SignIn
from accounts.services import sign_in_revoke
from api.token_services import token_sign_in_start
from shop.demo import DEMO_ADMIN, DEMO_PASSWORD, DEMO_USERS
from shop.models import Order, Product
from shop.services import cart_add_item, cart_get_or_create_for_user, order_place
from tests.support.factories import SignInFactory

# own_config: a page's layout is the same whatever database or cache holds its data.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.own_config,
    pytest.mark.django_db(transaction=True),
]

SHOPPER = DEMO_USERS[0]["email"]
WIDTHS = {"laptop": 1280, "phone": 390}
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)

# How far the page scrolls sideways: the document's width beyond the viewport's.
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"

# The elements wider than the viewport, to say what overflows when the page does.
TOO_WIDE = """
() => Array.from(document.querySelectorAll('body *'))
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
  .filter(el => !el.closest('.visually-hidden, .skip-link'))
  .slice(0, 5)
  .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
             + ' ' + (el.textContent || '').trim().slice(0, 40))
"""

# The number of lines an element's content is laid out on: text boxes that overlap
# vertically share a line (a badge beside a word is still one line).
LINES = """
el => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const boxes = Array.from(range.getClientRects())
    .filter(box => box.width > 1 && box.height > 1)
    .sort((a, b) => a.top - b.top);
  let lines = 0, bottom = -Infinity;
  for (const box of boxes) {
    if (box.top >= bottom - 1) { lines += 1; bottom = box.bottom; }
    else { bottom = Math.max(bottom, box.bottom); }
  }
  return lines;
}
"""


@pytest.fixture
def demo_site(live_server):
    """The demo catalog and accounts, with a cart, an order and sign-ins to list."""
    call_command("seed_demo", verbosity=0)
    from django.contrib.auth import get_user_model

    shopper = get_user_model().objects.get(email=SHOPPER)
    products = list(Product.objects.order_by("pk")[:3])
    cart = cart_get_or_create_for_user(user=shopper)
    cart_add_item(cart=cart, product=products[0], quantity=1)
    order_place(user=shopper, cart=cart)
    cart_add_item(cart=cart, product=products[1], quantity=2)
    cart_add_item(cart=cart, product=products[2], quantity=1)
    # Other places signed in as the shopper, for "Your devices" and the admin's lists: two
    # API clients (one revoked, so that its refresh token is blacklisted) and an ended
    # session from a phone, at an IPv6 address as long as they come.
    api_client = RequestFactory().post("/", HTTP_USER_AGENT="python-requests/2.32.3")
    token_sign_in_start(user=shopper, request=api_client)
    token_sign_in_start(user=shopper, request=api_client)
    revoked = SignIn.objects.filter(user=shopper, kind=SignIn.Kind.TOKEN).latest("created_at")
    sign_in_revoke(user=shopper, sign_in_id=revoked.pk)
    SignInFactory(
        user=shopper,
        user_agent=PHONE_UA,
        ip_address="2001:db8:85a3:1234:5678:8a2e:370:7334",
        ended_at=timezone.now(),
        end_reason=SignIn.EndReason.SIGNED_OUT,
    )
    return {
        "product": products[0],
        "order": Order.objects.get(user=shopper),
        "sign_in": SignIn.objects.filter(user=shopper).first(),
    }


def storefront_sign_in(page, base_url, email=SHOPPER):
    page.goto(base_url + reverse("accounts:login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def admin_sign_in(page, base_url):
    page.goto(base_url + reverse("admin_login"))
    page.locator("input[name=username]").fill(DEMO_ADMIN["email"])
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("input[type=submit], button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/login/" not in url)


def client_sign_in(page, base_url):
    page.goto(base_url + reverse("webclient:app"))
    page.wait_for_selector("body[data-ready=true]")
    page.get_by_label("Email").fill(SHOPPER)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Products").wait_for()


def run_experiment(page, base_url):
    storefront_sign_in(page, base_url)
    page.goto(base_url + reverse("compare"))
    page.get_by_role("button", name="Run the revocation experiment").click()
    page.wait_for_selector("[data-testid=experiment]")


# Each page: who signs in (None: nobody) and its address, given the demo site.
PAGES = {
    "catalog": ("shopper", lambda site: reverse("shop:catalog")),
    "product": ("shopper", lambda site: site["product"].get_absolute_url()),
    "cart": ("shopper", lambda site: reverse("shop:cart")),
    "orders": ("shopper", lambda site: reverse("shop:order_list")),
    "order": ("shopper", lambda site: reverse("shop:order_detail", args=[site["order"].pk])),
    "sign-in": (None, lambda site: reverse("accounts:login")),
    "sign-up": (None, lambda site: reverse("accounts:signup")),
    "devices": ("shopper", lambda site: reverse("accounts:devices")),
    "password-change": ("shopper", lambda site: reverse("accounts:password_change")),
    "compare-signed-out": (None, lambda site: reverse("compare")),
    "compare": ("shopper", lambda site: reverse("compare")),
    "compare-experiment": ("experiment", None),
    "client-sign-in": (None, lambda site: reverse("webclient:app")),
    "client": ("client", None),
    "admin-index": ("admin", lambda site: reverse("admin:index")),
    "admin-sign-ins": ("admin", lambda site: reverse("admin:accounts_signin_changelist")),
    "admin-sign-in": (
        "admin",
        lambda site: reverse("admin:accounts_signin_change", args=[site["sign_in"].pk]),
    ),
    "admin-users": ("admin", lambda site: reverse("admin:accounts_user_changelist")),
    "admin-outstanding-tokens": (
        "admin",
        lambda site: reverse("admin:token_blacklist_outstandingtoken_changelist"),
    ),
    "admin-blacklisted-tokens": (
        "admin",
        lambda site: reverse("admin:token_blacklist_blacklistedtoken_changelist"),
    ),
}


def open_page(browser, live_server, site, name, width):
    context = browser.new_context(viewport={"width": width, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    who, address = PAGES[name]
    base_url = live_server.url
    if who == "shopper":
        storefront_sign_in(page, base_url)
    elif who == "admin":
        admin_sign_in(page, base_url)
    elif who == "experiment":
        run_experiment(page, base_url)
    elif who == "client":
        client_sign_in(page, base_url)
    if address is not None:
        page.goto(base_url + address(site))
    if name == "client-sign-in":
        page.wait_for_selector("body[data-ready=true]")
    page.wait_for_load_state()
    return context, page


@pytest.fixture
def opened(request, browser, live_server, demo_site):
    """The page named by the test's parameters, open at its width; closed afterwards."""
    name, width = request.param
    context, page = open_page(browser, live_server, demo_site, name, WIDTHS[width])
    yield page
    context.close()


@pytest.mark.parametrize(
    "opened",
    [(name, width) for name in PAGES for width in WIDTHS],
    ids=[f"{name}-{width}" for name in PAGES for width in WIDTHS],
    indirect=True,
)
def test_the_page_does_not_scroll_sideways(opened):
    overflow = opened.evaluate(OVERFLOW)

    assert overflow <= 0, f"{overflow}px too wide: {opened.evaluate(TOO_WIDE)}"


@pytest.mark.parametrize("opened", [("devices", "laptop")], ids=["laptop"], indirect=True)
def test_the_devices_buttons_and_headers_stay_on_one_line(opened):
    elements = opened.locator("main th, main button")
    assert elements.count() > 10  # the headers, three devices' rows and their buttons

    wrapped = [
        element.inner_text()
        for element in elements.all()
        if element.is_visible() and element.evaluate(LINES) > 1
    ]

    assert wrapped == []


@pytest.mark.parametrize("opened", [("devices", "laptop")], ids=["laptop"], indirect=True)
def test_the_devices_table_fits_its_box_at_laptop_width(opened):
    hidden = opened.locator("table.devices").evaluate(
        "table => table.scrollWidth - table.parentElement.clientWidth"
    )

    assert hidden <= 0, f"{hidden}px of the table is past the right edge"


@pytest.mark.parametrize("opened", [("devices", "phone")], ids=["phone"], indirect=True)
def test_on_a_phone_each_device_fits_the_screen(opened):
    # Stacked one device a card, or scrolling inside its own box: either way nothing of a
    # row is cut off beyond the screen's edge unless its box scrolls.
    unreachable = opened.evaluate(
        """
        () => Array.from(document.querySelectorAll('table.devices th, table.devices td'))
          .filter(cell => cell.getBoundingClientRect().right > window.innerWidth + 1)
          .filter(cell => {
            for (let box = cell.parentElement; box; box = box.parentElement) {
              const style = getComputedStyle(box);
              if (['auto', 'scroll'].includes(style.overflowX)) return false;
            }
            return true;
          })
          .map(cell => cell.textContent.trim())
        """
    )

    assert unreachable == []


# The admin's lists of this project: each shows all its columns at 1280 px, with no column
# hidden past the right edge of the box the table scrolls in.
ADMIN_LISTS = [
    "admin-sign-ins",
    "admin-users",
    "admin-outstanding-tokens",
    "admin-blacklisted-tokens",
]


@pytest.mark.parametrize(
    "opened", [(name, "laptop") for name in ADMIN_LISTS], ids=ADMIN_LISTS, indirect=True
)
def test_an_admin_list_shows_every_column_at_laptop_width(opened):
    table = opened.locator("#result_list")
    assert table.locator("tbody tr").count() >= 1

    hidden = table.evaluate("table => table.scrollWidth - table.closest('.results').clientWidth")

    assert hidden <= 0, f"{hidden}px of the list is past the right edge"


# The blank height in each card of the comparison page: from the end of its content to the
# bottom of its grid row (the tallest card beside it). A short card beside a long one
# leaves a tall empty column.
CARD_GAPS = """
() => Array.from(document.querySelectorAll('.compare-grid > .compare-col')).map(card => {
  const box = card.getBoundingClientRect();
  const row = Array.from(card.parentElement.children)
    .map(other => other.getBoundingClientRect())
    .filter(other => Math.abs(other.top - box.top) < 2)
    .reduce((bottom, other) => Math.max(bottom, other.bottom), box.bottom);
  const content = card.lastElementChild.getBoundingClientRect().bottom;
  return [card.getAttribute('aria-labelledby'), Math.round(row - content)];
})
"""


@pytest.mark.parametrize(
    "opened",
    [(name, width) for name in ["compare", "compare-signed-out"] for width in WIDTHS],
    ids=[f"{name}-{width}" for name in ["compare", "compare-signed-out"] for width in WIDTHS],
    indirect=True,
)
def test_no_card_on_the_comparison_page_leaves_a_tall_blank(opened):
    gaps = opened.evaluate(CARD_GAPS)
    assert len(gaps) >= 6

    # The card's own bottom padding and margins come to about 2 lines; allow 5.
    assert [(card, gap) for card, gap in gaps if gap > 120] == []


HIDDEN_CODE = """
() => Array.from(document.querySelectorAll('pre'))
  .filter(block => block.scrollWidth > block.clientWidth + 1)
  .map(block => [block.textContent.trim().slice(0, 40), block.scrollWidth - block.clientWidth])
"""


@pytest.mark.parametrize(
    "opened",
    [(name, width) for name in ["compare", "compare-experiment"] for width in WIDTHS],
    ids=[f"{name}-{width}" for name in ["compare", "compare-experiment"] for width in WIDTHS],
    indirect=True,
)
def test_no_claim_or_key_on_the_comparison_page_hides_its_end(opened):
    # A token id is one long word; cut off at the box's edge it reads as the whole value.
    assert opened.evaluate(HIDDEN_CODE) == []
