"""
The storefront's views and their API twins make the same calls into the core, in the same
order: only how the user is identified and how the answer is rendered differ.

Read from the source with ``ast``, not run: every call to shop's or accounts' selectors and
services, in the order Python evaluates them, with the module's own helpers followed into.
The two ways of finding the request's cart (the session's, the token's) count as one call.
Reads that only one edge makes to render its answer are named below, with the reason.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = {"shop.selectors", "shop.services", "accounts.selectors", "accounts.services"}
# How each edge finds the request's cart: the same lookup, by the edge's way of identifying.
REQUEST_CART = {
    "session_cart_get": "the request's cart",
    "_token_cart_get": "the request's cart",
    "session_cart_get_or_create": "the request's cart, created if need be",
    "_token_cart_get_or_create": "the request's cart, created if need be",
}

PAIRS = [
    # (storefront view, API view, calls only the storefront makes, calls only the API makes)
    pytest.param(
        "shop/views.py:catalog",
        "ProductListView.get_queryset",
        ["shop.selectors.category_list"],  # The page's menu of categories.
        [],
        id="catalog",
    ),
    pytest.param(
        "shop/views.py:product_detail",
        "CartItemListView.post",
        [],
        ["shop.selectors.cart_contents"],  # The API answers with the cart; the page redirects.
        id="add-to-cart",
    ),
    pytest.param("shop/views.py:cart", "CartView.get", [], [], id="cart"),
    pytest.param(
        "shop/views.py:cart_update", "CartItemDetailView.patch", [], [], id="set-quantity"
    ),
    pytest.param("shop/views.py:cart_remove", "CartItemDetailView.delete", [], [], id="remove"),
    pytest.param(
        "shop/views.py:checkout",
        "OrderListView.post",
        # The page that reviews the cart, shown on GET and again under a refused order.
        ["the request's cart", "shop.selectors.cart_contents"],
        [],
        id="place-order",
    ),
    pytest.param("shop/views.py:order_list", "OrderListView.get_queryset", [], [], id="orders"),
    pytest.param("shop/views.py:order_detail", "OrderDetailView.get", [], [], id="order"),
    pytest.param("accounts/views.py:devices", "SignInListView.get", [], [], id="devices"),
    pytest.param("accounts/views.py:device_revoke", "SignInDetailView.delete", [], [], id="revoke"),
]


class _CoreCalls(ast.NodeVisitor):
    """Collect the core calls of one function, in evaluation order, following helpers."""

    def __init__(self, path: Path):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = path.parent.name
        self.bindings: dict[str, str] = {}  # local name -> module it names
        for node in tree.body:
            if isinstance(node, ast.ImportFrom):
                # Views are modules of an app's top level: "from . import x" is app.x.
                parts = [package] if node.level else []
                base = ".".join([*parts, *([node.module] if node.module else [])])
                for alias in node.names:
                    self.bindings[alias.asname or alias.name] = f"{base}.{alias.name}"
        self.definitions: dict[str, ast.AST] = {}
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                self.definitions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        self.definitions[f"{node.name}.{item.name}"] = item
        self.calls: list[str] = []

    def of(self, qualname: str) -> list[str]:
        self.calls = []
        for statement in self.definitions[qualname].body:
            self.visit(statement)
        return self.calls

    def visit_Call(self, node: ast.Call) -> None:
        # Arguments are evaluated before the call they are passed to.
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Name) and func.id in REQUEST_CART:
            self.calls.append(REQUEST_CART[func.id])
        elif isinstance(func, ast.Name) and func.id in self.definitions:
            for statement in self.definitions[func.id].body:
                self.visit(statement)
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            module = self.bindings.get(func.value.id)
            if module in CORE:
                self.calls.append(f"{module}.{func.attr}")


def _without(calls: list[str], extras: list[str]) -> list[str]:
    remaining = list(calls)
    for extra in extras:
        assert extra in remaining, f"{extra} is declared edge-only but no longer called"
        remaining.remove(extra)
    return remaining


@pytest.mark.parametrize(("storefront", "api_view", "storefront_only", "api_only"), PAIRS)
def test_the_storefront_and_the_api_make_the_same_core_calls_in_the_same_order(
    storefront, api_view, storefront_only, api_only
):
    path, _, view = storefront.partition(":")
    storefront_calls = _CoreCalls(ROOT / path).of(view)
    api_calls = _CoreCalls(ROOT / "api" / "views.py").of(api_view)
    assert storefront_calls, f"{storefront} calls nothing in the core"
    assert _without(storefront_calls, storefront_only) == _without(api_calls, api_only)
