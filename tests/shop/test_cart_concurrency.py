"""
Cart writes under real concurrency: PostgreSQL row locks, several threads, one cart.

Each race is run for many rounds, on a fresh cart each time, because one round can pass by
luck. Every thread's outcome is checked: a cart write ends in its result or in a
ValidationError a customer can read, never in a database error (a 500 at the edges), and
the quantities that were accepted are all in the cart at the end.
"""

import pytest
from django.core.exceptions import ValidationError

from shop import services
from shop.models import Cart, CartLine
from tests.support.factories import ProductFactory, UserFactory
from tests.support.threads import repeat, run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 15


def _cart():
    return services.cart_get_or_create_for_user(user=UserFactory())


def _fresh(cart) -> Cart:
    # Each request loads its own instance; a shared one would see the merge's delete()
    # clear its primary key, which no two real requests can do to each other.
    return Cart.objects.get(pk=cart.pk)


def _quantity(cart, product) -> int | None:
    line = CartLine.objects.filter(cart=cart, product=product).first()
    return line.quantity if line else None


def _codes(outcomes) -> list[str]:
    """The codes of the ValidationErrors; any other exception fails the test here."""
    unexpected = [o for o in outcomes if isinstance(o, Exception) and not _is_validation(o)]
    assert not unexpected, unexpected
    return sorted(error.code for o in outcomes if _is_validation(o) for error in _errors(o))


def _is_validation(outcome) -> bool:
    return isinstance(outcome, ValidationError)


def _errors(error: ValidationError) -> list[ValidationError]:
    if hasattr(error, "error_dict"):
        return [e for errors in error.error_dict.values() for e in errors]
    return list(error.error_list)


@repeat(ROUNDS)
def test_concurrent_first_adds_of_a_product_add_up():
    cart, product = _cart(), ProductFactory(stock=50)

    outcomes = run_in_threads(
        [lambda: services.cart_add_item(cart=cart, product=product, quantity=1)] * 4
    )

    assert _codes(outcomes) == []
    assert _quantity(cart, product) == 4


@pytest.mark.parametrize(
    ("stock", "already", "expected_code"),
    [(3, 0, "insufficient_stock"), (500, services.MAX_LINE_QUANTITY - 2, "out_of_range")],
    ids=["stock", "line-maximum"],
)
@repeat(ROUNDS)
def test_concurrent_adds_past_a_limit_stop_at_it_with_a_clean_error(stock, already, expected_code):
    cart, product = _cart(), ProductFactory(stock=stock)
    if already:
        services.cart_add_item(cart=cart, product=product, quantity=already)
    room = min(stock, services.MAX_LINE_QUANTITY) - already

    outcomes = run_in_threads(
        [lambda: services.cart_add_item(cart=cart, product=product, quantity=1)] * (room + 2)
    )

    assert _codes(outcomes) == [expected_code] * 2
    assert _quantity(cart, product) == already + room


@repeat(ROUNDS)
def test_concurrent_sets_and_adds_of_a_new_line_never_fail_and_keep_a_serial_result():
    cart, product = _cart(), ProductFactory(stock=50)

    outcomes = run_in_threads(
        [lambda: services.cart_set_quantity(cart=cart, product=product, quantity=5)] * 2
        + [lambda: services.cart_add_item(cart=cart, product=product, quantity=1)] * 2
    )

    assert _codes(outcomes) == []
    # Some order of "set to 5, set to 5, add 1, add 1": the adds after the last set count.
    assert _quantity(cart, product) in {5, 6, 7}


@repeat(ROUNDS)
def test_removals_racing_adds_never_fail_and_keep_a_serial_result():
    cart, product = _cart(), ProductFactory(stock=50)
    services.cart_add_item(cart=cart, product=product, quantity=2)

    outcomes = run_in_threads(
        [lambda: services.cart_remove_item(cart=cart, product=product)]
        + [lambda: services.cart_add_item(cart=cart, product=product, quantity=1)] * 3
    )

    assert _codes(outcomes) == []
    # Some order of "remove, add 1, add 1, add 1" on a line of 2.
    assert _quantity(cart, product) in {None, 1, 2, 3}


@repeat(ROUNDS)
def test_a_clear_racing_adds_never_fails():
    cart, product = _cart(), ProductFactory(stock=50)
    services.cart_add_item(cart=cart, product=product, quantity=2)

    outcomes = run_in_threads(
        [lambda: services.cart_clear(cart=cart)]
        + [lambda: services.cart_add_item(cart=cart, product=product, quantity=1)] * 3
    )

    assert _codes(outcomes) == []
    assert _quantity(cart, product) in {None, 1, 2, 3}


@repeat(ROUNDS)
def test_two_requests_creating_a_users_first_cart_get_the_same_cart():
    user = UserFactory()

    outcomes = run_in_threads([lambda: services.cart_get_or_create_for_user(user=user)] * 4)

    assert _codes(outcomes) == []
    assert {cart.pk for cart in outcomes} == {Cart.objects.get(user=user).pk}


def _merge_racing_an_add(*, add_to: str) -> tuple[list[str], int | None]:
    """
    Race the merge of an anonymous cart holding 2 of a product into a user's cart with an
    add of 1 to the ``add_to`` cart; return the error codes and the user's quantity.
    """
    target, product = _cart(), ProductFactory(stock=50)
    source = services.cart_create_anonymous()
    services.cart_add_item(cart=source, product=product, quantity=2)
    added_to = {"user": target, "anonymous": source}[add_to]

    # Loaded before the race, as a request loads its cart before it writes: loaded inside
    # the thread, the add's own lookup could run after the merge and fail in this test.
    merge_source, merge_target, add_cart = _fresh(source), _fresh(target), _fresh(added_to)
    outcomes = run_in_threads(
        [
            lambda: services.cart_merge(source=merge_source, target=merge_target),
            lambda: services.cart_add_item(cart=add_cart, product=product, quantity=1),
        ]
    )

    assert not Cart.objects.filter(pk=source.pk).exists()
    return _codes(outcomes), _quantity(target, product)


@repeat(ROUNDS)
def test_a_merge_racing_an_add_to_the_users_cart_keeps_both_quantities():
    assert _merge_racing_an_add(add_to="user") == ([], 3)


@repeat(ROUNDS)
def test_an_add_to_an_anonymous_cart_racing_its_merge_is_kept_or_refused_never_lost():
    # The add came first and was merged, or came after the merge and was refused.
    assert _merge_racing_an_add(add_to="anonymous") in [([], 3), (["cart_gone"], 2)]
