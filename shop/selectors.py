"""Read-only queries over the catalog, carts and orders, shared by both edges."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet

from .models import Cart, CartLine, Category, Order, Product

MAX_QUERY_LENGTH = 100


def category_list() -> QuerySet[Category]:
    return Category.objects.all()


def product_list(*, query: str = "", category_slug: str = "") -> QuerySet[Product]:
    """Return active products matching the search text and category, with their category."""
    products = Product.objects.filter(is_active=True).select_related("category")
    query = (query or "").strip()[:MAX_QUERY_LENGTH]
    if query:
        products = products.filter(Q(name__icontains=query) | Q(description__icontains=query))
    if category_slug:
        products = products.filter(category__slug=category_slug)
    return products


def product_get(*, slug: str | None = None, pk: int | None = None) -> Product:
    """Return one active product by slug or id; raise Product.DoesNotExist otherwise."""
    lookup = {"slug": slug} if slug is not None else {"pk": pk}
    return Product.objects.select_related("category").get(is_active=True, **lookup)


def cart_get_for_user(*, user) -> Cart | None:
    return Cart.objects.filter(user=user).first()


def cart_get_anonymous(*, token: str | None) -> Cart | None:
    if not token:
        return None
    return Cart.objects.filter(anonymous_token=token, user__isnull=True).first()


def cart_lines(*, cart: Cart | None) -> list[CartLine]:
    """Return the cart's lines with their products, in the order they were added."""
    if cart is None:
        return []
    return list(cart.lines.select_related("product", "product__category"))


def cart_total(*, lines: list[CartLine]) -> Decimal:
    return sum((line.subtotal for line in lines), Decimal("0.00"))


@dataclass(frozen=True)
class CartContents:
    """What a cart holds, as both edges show it: its lines, with their products, and the total."""

    lines: list[CartLine]
    total: Decimal


def cart_contents(*, cart: Cart | None) -> CartContents:
    """Return the cart's lines, in the order they were added, and their total; no cart is empty."""
    lines = cart_lines(cart=cart)
    return CartContents(lines=lines, total=cart_total(lines=lines))


def cart_line_get(
    *, cart: Cart | None, pk: int | None = None, product_id: int | None = None
) -> CartLine:
    """
    Return one line of the cart, with its product, by the line's id or by its product's.
    Raise CartLine.DoesNotExist if the cart has no such line, or there is no cart.
    """
    field, wanted = ("pk", pk) if pk is not None else ("product_id", product_id)
    # Picked from the cart's few lines, not looked up: a number from a URL too large for
    # the database's integers is then a line that is not there, not a driver's overflow.
    for line in cart_lines(cart=cart):
        if getattr(line, field) == wanted:
            return line
    raise CartLine.DoesNotExist("The cart has no such line.")


def order_list(*, user) -> QuerySet[Order]:
    """Return the user's orders, newest first, with their lines prefetched."""
    return Order.objects.filter(user=user).prefetch_related(Prefetch("lines"))


def order_get(*, user, pk: int) -> Order:
    """Return one of the user's orders; another user's order does not exist for them."""
    return order_list(user=user).get(pk=pk)
