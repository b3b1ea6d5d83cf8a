"""Storefront forms: they parse input; the rules (stock, limits) live in shop.services."""

import secrets

from django import forms

from .services import MAX_LINE_QUANTITY


class AddToCartForm(forms.Form):
    quantity = forms.IntegerField(
        label="Quantity",
        min_value=1,
        max_value=MAX_LINE_QUANTITY,
        initial=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class CartLineForm(forms.Form):
    """Change one line's quantity; zero removes it."""

    quantity = forms.IntegerField(
        label="Quantity",
        min_value=0,
        max_value=MAX_LINE_QUANTITY,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class CheckoutForm(forms.Form):
    """
    Place the order. The idempotency key, drawn when the page is rendered, makes a double
    submit (or a retried POST) return the order already placed instead of a second one.
    """

    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput)

    @classmethod
    def fresh(cls) -> "CheckoutForm":
        return cls(initial={"idempotency_key": secrets.token_urlsafe(24)})
