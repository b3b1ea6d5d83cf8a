"""
Writes to carts and orders, shared by the storefront and the API.

Every function validates its input and raises ``django.core.exceptions.ValidationError``
with a message a customer can read; nothing is written when it does.
"""

import secrets
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from .models import Cart, CartLine, Order, OrderLine, Product

MAX_LINE_QUANTITY = 99


def _field_error(field: str, message: str, *, code: str) -> ValidationError:
    # ValidationError ignores ``code`` when given a dict: the code must be on the message,
    # or the API answers every one of these as "invalid".
    return ValidationError({field: ValidationError(message, code=code)})


def _validate_quantity(quantity, *, allow_zero: bool = False) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise _field_error("quantity", "Enter a whole number.", code="invalid")
    low = 0 if allow_zero else 1
    if quantity < low or quantity > MAX_LINE_QUANTITY:
        raise _field_error(
            "quantity",
            f"Enter a quantity between {low} and {MAX_LINE_QUANTITY}.",
            code="out_of_range",
        )
    return quantity


def _validate_available(product: Product, quantity: int) -> None:
    if not product.is_active:
        raise _field_error("product", f"{product.name} is no longer available.", code="inactive")
    if quantity > product.stock:
        raise _field_error(
            "quantity",
            f"Only {product.stock} of {product.name} left in stock.",
            code="insufficient_stock",
        )


def _cart_lock(cart: Cart) -> Cart:
    """
    Lock the cart's row for the rest of the transaction and return it as it is now.

    Every write to a cart's lines takes this lock first, so writes to one cart run one
    after another and each one reads the lines the one before it left: without it, two
    first adds of a product both insert a line, and a checkout empties lines it never read.
    """
    locked = Cart.objects.select_for_update().filter(pk=cart.pk).first()
    if locked is None:
        # Merged into the user's cart at sign-in (or deleted) while this request waited.
        raise ValidationError("This cart no longer exists. Reload the page.", code="cart_gone")
    return locked


def cart_get_or_create_for_user(*, user) -> Cart:
    """Return the user's cart, creating it on first use."""
    cart, _ = Cart.objects.get_or_create(user=user)
    return cart


def cart_create_anonymous() -> Cart:
    """Create a cart for a visitor who has not signed in; keep its token in their session."""
    return Cart.objects.create(anonymous_token=secrets.token_urlsafe(32))


@transaction.atomic
def cart_add_item(*, cart: Cart, product: Product, quantity: int) -> CartLine:
    """Add ``quantity`` of the product to the cart, on top of what is already there."""
    _validate_quantity(quantity)
    cart = _cart_lock(cart)
    line = CartLine.objects.filter(cart=cart, product=product).first()
    new_quantity = quantity + (line.quantity if line else 0)
    _validate_quantity(new_quantity)
    _validate_available(product, new_quantity)
    if line is None:
        line = CartLine.objects.create(cart=cart, product=product, quantity=new_quantity)
    else:
        line.quantity = new_quantity
        line.save(update_fields=["quantity"])
    return line


@transaction.atomic
def cart_set_quantity(*, cart: Cart, product: Product, quantity: int) -> CartLine | None:
    """Set the product's quantity in the cart; zero removes the line (and returns None)."""
    _validate_quantity(quantity, allow_zero=True)
    cart = _cart_lock(cart)
    if quantity == 0:
        cart_remove_item(cart=cart, product=product)
        return None
    _validate_available(product, quantity)
    line, _ = CartLine.objects.update_or_create(
        cart=cart, product=product, defaults={"quantity": quantity}
    )
    return line


@transaction.atomic
def cart_remove_item(*, cart: Cart, product: Product) -> None:
    """Remove the product from the cart; removing what is not there is not an error."""
    cart = _cart_lock(cart)
    CartLine.objects.filter(cart=cart, product=product).delete()


@transaction.atomic
def cart_clear(*, cart: Cart) -> None:
    """Remove every line from the cart."""
    CartLine.objects.filter(cart=_cart_lock(cart)).delete()


@transaction.atomic
def cart_merge(*, source: Cart, target: Cart) -> Cart:
    """
    Move the lines of ``source`` (an anonymous cart) into ``target`` (the user's cart) and
    delete ``source``. Quantities of the same product add up, capped by the stock and by
    the per-line maximum; inactive products are dropped.
    """
    if source.pk == target.pk:
        return target
    # Lock both carts (in primary-key order, so two merges cannot wait on each other in a
    # cycle): nothing can add to either while the lines move.
    locked = (
        Cart.objects.select_for_update()
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if source.pk not in set(locked):
        # Another sign-in of the same visitor merged it while this one waited.
        return target
    existing = {line.product_id: line for line in CartLine.objects.filter(cart=target)}
    for line in CartLine.objects.filter(cart=source).select_related("product"):
        product = line.product
        if not product.is_active:
            continue
        current = existing.get(product.pk)
        wanted = line.quantity + (current.quantity if current else 0)
        quantity = min(wanted, product.stock, MAX_LINE_QUANTITY)
        if quantity <= 0:
            continue
        if current is None:
            CartLine.objects.create(cart=target, product=product, quantity=quantity)
        elif quantity != current.quantity:
            current.quantity = quantity
            current.save(update_fields=["quantity"])
    source.delete()
    return target


def order_place(*, user, cart: Cart, idempotency_key: str | None = None) -> Order:
    """
    Turn the cart into an order: lock the cart's row, then its products' rows, check
    stock, snapshot prices, decrement stock and empty the cart, all in one transaction.

    With an ``idempotency_key``, placing the same order again (a double submit, a retried
    request) returns the order already placed instead of creating another.
    """
    if idempotency_key is not None:
        idempotency_key = str(idempotency_key).strip()
        if not idempotency_key or len(idempotency_key) > 64:
            raise _field_error(
                "idempotency_key", "Use a key of 1 to 64 characters.", code="invalid"
            )
        existing = _order_with_key(user=user, idempotency_key=idempotency_key)
        if existing is not None:
            return existing
    try:
        return _order_create(user=user, cart=cart, idempotency_key=idempotency_key)
    except IntegrityError:
        # A concurrent request with the same key won the race; its order is the answer.
        if idempotency_key is None:
            raise
        return Order.objects.get(user=user, idempotency_key=idempotency_key)


def _order_with_key(*, user, idempotency_key: str) -> Order | None:
    return Order.objects.filter(user=user, idempotency_key=idempotency_key).first()


@transaction.atomic
def _order_create(*, user, cart: Cart, idempotency_key: str | None) -> Order:
    if cart.user_id != user.pk:
        raise ValidationError("This cart does not belong to you.", code="not_owner")
    # The cart first, then its products (below): the order every cart writer follows. The
    # lines are read after the lock, so a second checkout of the same cart waits for the
    # first and then finds the cart empty instead of ordering the same lines again.
    cart = _cart_lock(cart)
    if idempotency_key is not None:
        # A submit with the same key that held the lock before us has placed the order.
        existing = _order_with_key(user=user, idempotency_key=idempotency_key)
        if existing is not None:
            return existing
    lines = list(CartLine.objects.filter(cart=cart).order_by("product_id"))
    if not lines:
        raise ValidationError("Your cart is empty.", code="empty_cart")

    # Lock in primary-key order so that two checkouts never wait on each other in a cycle.
    products = (
        Product.objects.select_for_update()
        .order_by("pk")
        .in_bulk([line.product_id for line in lines])
    )
    errors = []
    for line in lines:
        product = products.get(line.product_id)
        if product is None or not product.is_active:
            name = product.name if product else "A product in your cart"
            errors.append(ValidationError(f"{name} is no longer available.", code="inactive"))
        elif product.stock < line.quantity:
            errors.append(
                ValidationError(
                    f"Only {product.stock} of {product.name} left in stock.",
                    code="insufficient_stock",
                )
            )
    if errors:
        raise ValidationError(errors)

    total = sum(
        (products[line.product_id].price * line.quantity for line in lines), Decimal("0.00")
    )
    order = Order.objects.create(user=user, total=total, idempotency_key=idempotency_key)
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product=products[line.product_id],
            product_name=products[line.product_id].name,
            unit_price=products[line.product_id].price,
            quantity=line.quantity,
        )
        for line in lines
    )
    for line in lines:
        Product.objects.filter(pk=line.product_id).update(stock=F("stock") - line.quantity)
    CartLine.objects.filter(cart=cart).delete()
    return order
