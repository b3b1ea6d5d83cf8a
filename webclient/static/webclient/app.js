// The browser client's screens: sign-in, products, cart, orders. Every change goes
// through the API (api.js); the DOM is built with createElement and textContent only,
// never from HTML strings (the page's Trusted Types policy would refuse them anyway).

import {
  ApiError,
  SignedOut,
  accessClaims,
  api,
  choosePattern,
  currentPattern,
  onTokensChange,
  restore,
  signIn,
  signOut,
  signOutEverywhere,
} from "./api.js";

const $ = (id) => document.getElementById(id);

const state = {
  view: "products",
  search: "",
  category: null, // { slug, name }
  page: 1,
  // One key per checkout attempt: a retry of the same attempt (after a 401, or a click
  // after a network failure) sends the same key, so the server places the order once.
  checkoutKey: null,
};

/** Build an element: h("button", { type: "button", onclick }, "text", child…). */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

function say(message, { error = false } = {}) {
  const status = $("status");
  status.textContent = message;
  status.classList.toggle("error", error);
}

function money(amount) {
  return `$${amount}`;
}

/**
 * The API's error as one sentence per message. Its ``detail`` repeats the first field
 * message (api/exceptions.py), so each message is kept once, in the order first seen.
 */
function errorText(error) {
  const messages = [error.message, ...Object.values(error.fieldErrors).flat()];
  return [...new Set(messages)].join(" ");
}

/** An ISO timestamp as the storefront renders it, "Y-m-d H:i" in UTC (the site's TIME_ZONE). */
function placedAt(iso) {
  const date = new Date(iso);
  const two = (number) => String(number).padStart(2, "0");
  const day = `${date.getUTCFullYear()}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())}`;
  return `${day} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}`;
}

/** Report a failed call: back to sign-in if the sign-in ended, the server's words otherwise. */
function fail(error) {
  if (error instanceof SignedOut) {
    showSignIn(`${error.message} Please sign in again.`);
  } else if (error instanceof ApiError) {
    say(errorText(error), { error: true });
  } else {
    say("The server could not be reached. Check your connection and try again.", {
      error: true,
    });
  }
}

// --- Signing in and out ----------------------------------------------------------------

function showSignIn(message = "") {
  $("shop-view").hidden = true;
  $("account").hidden = true;
  $("signin-view").hidden = false;
  $("signin-error").textContent = message;
  if (message) say(message, { error: true });
  $("email").focus();
}

const PATTERN_NAMES = {
  memory: "kept in page memory",
  cookie: "refresh token in an HttpOnly cookie",
  localstorage: "kept in localStorage (the pattern to avoid)",
};

function renderPattern() {
  $("pattern-name").textContent = PATTERN_NAMES[currentPattern()];
}

async function enterShop(message) {
  $("signin-view").hidden = true;
  $("shop-view").hidden = false;
  $("account").hidden = false;
  say(message);
  // The cart may hold lines from an earlier visit (or the storefront): count them.
  await Promise.all([show("products"), refreshCart()]);
}

async function onSignIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  $("signin-error").textContent = "";
  try {
    choosePattern(form.querySelector("input[name=pattern]:checked").value);
    await signIn($("email").value.trim(), $("password").value);
    $("password").value = "";
    await enterShop("Signed in.");
  } catch (error) {
    if (error instanceof ApiError) {
      $("signin-error").textContent = errorText(error);
    } else if (error instanceof TypeError) {
      $("signin-error").textContent = "The server could not be reached.";
    } else {
      $("signin-error").textContent = error.message;
    }
    $("password").focus();
  } finally {
    button.disabled = false;
  }
}

async function onSignOut() {
  await signOut();
  showSignIn();
  say("Signed out.");
}

async function onSignOutEverywhere() {
  try {
    await signOutEverywhere();
    showSignIn();
    say("Signed out of every API sign-in (storefront sessions are separate).");
  } catch (error) {
    fail(error);
  }
}

// --- The access token's countdown --------------------------------------------------------

function renderClock() {
  const clock = $("token-clock");
  const claims = accessClaims();
  if (!claims || typeof claims.exp !== "number") {
    clock.textContent = "";
    $("who").textContent = "";
    return;
  }
  $("who").textContent = claims.email || "";
  // Rounded up, so "expired" shows only once the server would refuse the token too.
  const left = Math.ceil(claims.exp - Date.now() / 1000);
  if (left > 0) {
    const minutes = Math.floor(left / 60);
    const seconds = String(left % 60).padStart(2, "0");
    clock.textContent = `Access token expires in ${minutes}:${seconds}`;
    clock.dataset.state = "live";
  } else {
    clock.textContent = "Access token expired: the next request will refresh it";
    clock.dataset.state = "expired";
  }
}

// --- Screens -------------------------------------------------------------------------------

async function show(view) {
  state.view = view;
  for (const name of ["products", "cart", "orders"]) {
    $(`${name}-view`).hidden = name !== view;
    const tab = document.querySelector(`[data-view=${name}]`);
    tab.setAttribute("aria-current", name === view ? "page" : "false");
  }
  try {
    if (view === "products") await loadProducts();
    else if (view === "cart") await loadCart();
    else await loadOrders();
  } catch (error) {
    fail(error);
  }
}

async function loadProducts() {
  const query = new URLSearchParams({ page: String(state.page) });
  if (state.search) query.set("search", state.search);
  if (state.category) query.set("category", state.category.slug);
  const page = await api(`/products/?${query}`);
  const rows = page.results.map((product) => {
    const quantity = h("input", {
      type: "number",
      min: 1,
      max: 99,
      value: 1,
      id: `qty-${product.id}`,
      class: "qty",
    });
    return h(
      "tr",
      { dataset: { productId: product.id } },
      h("th", { scope: "row" }, product.name),
      h(
        "td",
        {},
        h(
          "button",
          {
            type: "button",
            class: "link",
            title: `Show only ${product.category.name}`,
            onclick: () => {
              state.category = product.category;
              state.page = 1;
              show("products");
            },
          },
          product.category.name,
        ),
      ),
      h("td", { class: "num" }, money(product.price)),
      h("td", { class: "num" }, String(product.stock)),
      h(
        "td",
        {},
        h("label", { for: `qty-${product.id}`, class: "visually-hidden" }, `Quantity of ${product.name}`),
        quantity,
        h(
          "button",
          {
            type: "button",
            "aria-label": `Add ${product.name} to cart`,
            onclick: (event) => addToCart(event.currentTarget, product, quantity),
          },
          "Add to cart",
        ),
      ),
    );
  });
  $("products-body").replaceChildren(
    ...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 5 }, "No products match."))]),
  );
  $("category-filter").hidden = !state.category;
  $("category-name").textContent = state.category ? state.category.name : "";
  $("page-info").textContent = `Page ${state.page} · ${page.count} product${page.count === 1 ? "" : "s"}`;
  $("prev-page").disabled = !page.previous;
  $("next-page").disabled = !page.next;
}

async function addToCart(button, product, input) {
  const quantity = Number.parseInt(input.value, 10);
  button.disabled = true;
  try {
    const cart = await api("/cart/items/", {
      method: "POST",
      body: { product: product.id, quantity: Number.isNaN(quantity) ? input.value : quantity },
    });
    state.checkoutKey = null;
    renderCartCount(cart);
    say(`Added ${quantity} × ${product.name} to your cart.`);
  } catch (error) {
    fail(error);
  } finally {
    button.disabled = false;
  }
}

function renderCartCount(cart) {
  const count = cart.lines.reduce((sum, line) => sum + line.quantity, 0);
  $("cart-count").textContent = String(count);
}

async function loadCart() {
  renderCart(await api("/cart/"));
}

/** Show the server's cart as it is now (the tab's count too), reporting a failure. */
async function refreshCart() {
  try {
    await loadCart();
  } catch (error) {
    fail(error);
  }
}

function renderCart(cart) {
  renderCartCount(cart);
  const rows = cart.lines.map((line) => {
    const id = `line-${line.id}`;
    const quantity = h("input", { type: "number", min: 0, max: 99, value: line.quantity, id, class: "qty" });
    return h(
      "tr",
      { dataset: { lineId: line.id } },
      h("th", { scope: "row" }, line.product.name),
      h("td", { class: "num" }, money(line.product.price)),
      h(
        "td",
        {},
        h("label", { for: id, class: "visually-hidden" }, `Quantity of ${line.product.name}`),
        quantity,
        h(
          "button",
          {
            type: "button",
            "aria-label": `Update quantity of ${line.product.name}`,
            onclick: () => changeLine(line, quantity),
          },
          "Update",
        ),
        h(
          "button",
          {
            type: "button",
            "aria-label": `Remove ${line.product.name}`,
            onclick: () => removeLine(line),
          },
          "Remove",
        ),
      ),
      h("td", { class: "num" }, money(line.subtotal)),
    );
  });
  $("cart-body").replaceChildren(
    ...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 4 }, "Your cart is empty."))]),
  );
  $("cart-total").textContent = money(cart.total);
  $("place-order").disabled = cart.lines.length === 0;
  $("empty-cart").disabled = cart.lines.length === 0;
}

async function changeLine(line, input) {
  const quantity = Number.parseInt(input.value, 10);
  try {
    const cart = await api(`/cart/items/${line.id}/`, {
      method: "PATCH",
      body: { quantity: Number.isNaN(quantity) ? input.value : quantity },
    });
    state.checkoutKey = null;
    renderCart(cart);
    say(quantity === 0 ? `Removed ${line.product.name}.` : `${line.product.name}: quantity ${quantity}.`);
  } catch (error) {
    fail(error);
  }
}

async function removeLine(line) {
  try {
    await api(`/cart/items/${line.id}/`, { method: "DELETE" });
    state.checkoutKey = null;
    await loadCart();
    say(`Removed ${line.product.name}.`);
  } catch (error) {
    fail(error);
  }
}

async function emptyCart() {
  try {
    await api("/cart/", { method: "DELETE" });
    state.checkoutKey = null;
    await loadCart();
    say("Your cart is empty.");
  } catch (error) {
    fail(error);
  }
}

async function placeOrder() {
  const button = $("place-order");
  button.disabled = true;
  state.checkoutKey = state.checkoutKey || crypto.randomUUID();
  try {
    const order = await api("/orders/", {
      method: "POST",
      headers: { "Idempotency-Key": state.checkoutKey },
    });
    state.checkoutKey = null;
    say(`Order #${order.id} placed: ${money(order.total)}.`);
    await show("orders");
    // The order emptied the cart on the server; show that, not the count from before.
    await refreshCart();
  } catch (error) {
    // A refused order (stock, empty cart) ends this attempt; a network failure does not,
    // so clicking again retries it with the same key.
    if (error instanceof ApiError) state.checkoutKey = null;
    fail(error);
    button.disabled = false;
  }
}

async function loadOrders() {
  const page = await api("/orders/");
  const rows = page.results.map((order) =>
    h(
      "tr",
      { dataset: { orderId: order.id } },
      h("th", { scope: "row" }, `Order #${order.id}`),
      h("td", {}, h("time", { datetime: order.created_at }, placedAt(order.created_at))),
      h("td", {}, order.lines.map((line) => `${line.quantity} × ${line.product_name}`).join(", ")),
      h("td", {}, order.status),
      h("td", { class: "num" }, money(order.total)),
    ),
  );
  $("orders-body").replaceChildren(
    ...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 5 }, "No orders yet."))]),
  );
  $("orders-count").textContent =
    page.count > page.results.length ? `The newest ${page.results.length} of ${page.count}.` : "";
}

// --- Wiring --------------------------------------------------------------------------------

async function start() {
  $("signin-form").addEventListener("submit", onSignIn);
  $("sign-out").addEventListener("click", onSignOut);
  $("sign-out-everywhere").addEventListener("click", onSignOutEverywhere);
  for (const tab of document.querySelectorAll("[data-view]")) {
    tab.addEventListener("click", () => show(tab.dataset.view));
  }
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.search = $("search").value.trim();
    state.page = 1;
    show("products");
  });
  $("clear-category").addEventListener("click", () => {
    state.category = null;
    state.page = 1;
    show("products");
  });
  $("prev-page").addEventListener("click", () => {
    state.page = Math.max(1, state.page - 1);
    show("products");
  });
  $("next-page").addEventListener("click", () => {
    state.page += 1;
    show("products");
  });
  $("place-order").addEventListener("click", placeOrder);
  $("empty-cart").addEventListener("click", emptyCart);
  onTokensChange(renderClock);
  onTokensChange(renderPattern);
  setInterval(renderClock, 1000);
  // Tokens in memory do not survive a reload; the cookie and localStorage patterns do.
  if (await restore()) await enterShop("Signed in again without your password.");
  else showSignIn();
  document.body.dataset.ready = "true";
}

start();
