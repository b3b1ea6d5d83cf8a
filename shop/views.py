"""
Storefront views: HTML over the shop core, the user identified by their session.

Set them beside api/views.py: each view calls the same shop.selectors and shop.services,
in the same order, as its API twin. Only two things differ: how the user and their cart
are found (request.user and shop.session_cart here, which also serves an anonymous
visitor; the bearer token there) and how the answer is rendered (templates, redirects and
errors on the form here; JSON and api.exceptions there).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.outage import serve_signed_out_during_outage
from config.forms import add_service_error

from . import selectors, services
from .forms import AddToCartForm, CartLineForm, CheckoutForm
from .models import CartLine, Order, Product
from .session_cart import session_cart_get, session_cart_get_or_create

CATALOG_PAGE_SIZE = 24
ORDERS_PAGE_SIZE = 20


@require_GET
def healthz(request):
    """Liveness: answer without touching the database or Redis."""
    return JsonResponse({"status": "ok"})


@serve_signed_out_during_outage
@require_GET
def catalog(request):
    query = request.GET.get("q", "")[: selectors.MAX_QUERY_LENGTH]
    category_slug = request.GET.get("category", "")
    products = selectors.product_list(query=query, category_slug=category_slug)
    page = Paginator(products, CATALOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "shop/catalog.html",
        {
            "page": page,
            "query": query,
            "category_slug": category_slug,
            "categories": list(selectors.category_list()),
        },
    )


@serve_signed_out_during_outage
@require_http_methods(["GET", "POST"])
def product_detail(request, slug):
    """Show a product; POST adds it to the cart (signed in or not)."""
    try:
        product = selectors.product_get(slug=slug)
    except Product.DoesNotExist as exc:
        raise Http404("No such product.") from exc
    form = AddToCartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        cart = session_cart_get_or_create(request)
        try:
            services.cart_add_item(
                cart=cart, product=product, quantity=form.cleaned_data["quantity"]
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Added {product.name} to your cart.")
            return redirect("shop:cart")
    return render(request, "shop/product_detail.html", {"product": product, "form": form})


def _line_prefix(product_id: int) -> str:
    return f"line-{product_id}"


def _render_cart(
    request, contents, *, bound_form: CartLineForm | None = None, bound_product_id=None
):
    rows = []
    for line in contents.lines:
        if bound_form is not None and line.product_id == bound_product_id:
            form = bound_form
        else:
            form = CartLineForm(
                prefix=_line_prefix(line.product_id), initial={"quantity": line.quantity}
            )
        rows.append({"line": line, "form": form})
    return render(request, "shop/cart.html", {"rows": rows, "total": contents.total})


def _cart_line_or_404(request, product_id: int) -> CartLine:
    try:
        return selectors.cart_line_get(cart=session_cart_get(request), product_id=product_id)
    except CartLine.DoesNotExist as exc:
        raise Http404("That product is not in your cart.") from exc


@never_cache
@require_GET
def cart(request):
    """The cart: the user's, or the visitor's anonymous one."""
    contents = selectors.cart_contents(cart=session_cart_get(request))
    return _render_cart(request, contents)


@never_cache
@require_POST
def cart_update(request, product_id):
    """Set one line's quantity (zero removes it)."""
    line = _cart_line_or_404(request, product_id)
    form = CartLineForm(request.POST, prefix=_line_prefix(product_id))
    if form.is_valid():
        try:
            services.cart_set_quantity(
                cart=line.cart, product=line.product, quantity=form.cleaned_data["quantity"]
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(request, f"Updated {line.product.name}.")
            return redirect("shop:cart")
    contents = selectors.cart_contents(cart=line.cart)
    return _render_cart(request, contents, bound_form=form, bound_product_id=product_id)


@never_cache
@require_POST
def cart_remove(request, product_id):
    """Remove one line from the cart."""
    line = _cart_line_or_404(request, product_id)
    services.cart_remove_item(cart=line.cart, product=line.product)
    messages.success(request, f"Removed {line.product.name} from your cart.")
    return redirect("shop:cart")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def checkout(request):
    """Review the cart and place the order through shop.services.order_place."""
    form = CheckoutForm(request.POST) if request.method == "POST" else CheckoutForm.fresh()
    if request.method == "POST" and form.is_valid():
        try:
            order = services.order_place(
                user=request.user,
                cart=session_cart_get_or_create(request),
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            return redirect("shop:checkout_done", pk=order.pk)
    contents = selectors.cart_contents(cart=session_cart_get(request))
    return render(
        request,
        "shop/checkout.html",
        {"form": form, "lines": contents.lines, "total": contents.total},
    )


def _own_order_or_404(request, pk: int) -> Order:
    try:
        return selectors.order_get(user=request.user, pk=pk)
    except Order.DoesNotExist as exc:
        raise Http404("No such order.") from exc


@never_cache
@login_required
@require_GET
def checkout_done(request, pk):
    """The confirmation page of a placed order."""
    return render(request, "shop/checkout_done.html", {"order": _own_order_or_404(request, pk)})


@never_cache
@login_required
@require_GET
def order_list(request):
    """The user's orders, newest first: placed here or through the API."""
    orders = selectors.order_list(user=request.user)
    page = Paginator(orders, ORDERS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "shop/order_list.html", {"page": page})


@never_cache
@login_required
@require_GET
def order_detail(request, pk):
    """One of the user's orders; another user's order is a 404, not a 403."""
    return render(request, "shop/order_detail.html", {"order": _own_order_or_404(request, pk)})
