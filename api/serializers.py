"""
Small input and output serializers. Inputs check shape and type only (is it a whole
number, is it text, within the bounds the schema publishes); every business rule — stock,
passwords — is the core's, which checks the quantity bounds again.
"""

from rest_framework import serializers

from accounts.models import SignIn, User
from shop.services import MAX_LINE_QUANTITY

# Ids are 64-bit in the database; anything larger cannot name a row and must not reach it.
MAX_ID = 999_999_999_999_999_999


# --- Inputs -----------------------------------------------------------------------------


class NormalizedEmailInput(serializers.CharField):
    """An address normalised as it is stored (see UserManager) before its length is checked."""

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):  # CharField would take a number as its digits.
            self.fail("invalid")
        return User.objects.normalize_email_address(super().to_internal_value(data))


class NormalizedEmailAddressInput(serializers.EmailField):
    """A valid address, normalised as the storefront's sign-up and reset forms normalise it."""

    def to_internal_value(self, data) -> str:
        return User.objects.normalize_email_address(super().to_internal_value(data))


class CredentialsInput(serializers.Serializer):
    # Normalised here too so that the lockout counts look-alikes against the one account.
    email = NormalizedEmailInput(max_length=254, trim_whitespace=False)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class TokenObtainInput(CredentialsInput):
    resource = serializers.CharField(
        required=False,
        allow_blank=True,  # Refused as invalid_target, as any unknown resource is.
        max_length=2048,
        trim_whitespace=False,
        help_text="RFC 8707: the service the access token is for; without it, this API.",
    )


class RefreshInput(serializers.Serializer):
    refresh = serializers.CharField(trim_whitespace=False)


class TokenRefreshInput(RefreshInput):
    resource = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2048,
        trim_whitespace=False,
        help_text="RFC 8707: must name the resource the sign-in was granted for, if given.",
    )


class TokenInput(serializers.Serializer):
    token = serializers.CharField(trim_whitespace=False)


class SignUpInput(serializers.Serializer):
    # The storefront's SignUpForm, less the repeated password a form needs and a client not.
    email = NormalizedEmailAddressInput(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)


class PasswordResetInput(serializers.Serializer):
    # Any text: an address that is not one has no account, and gets the same answer.
    email = NormalizedEmailInput(max_length=254, trim_whitespace=False)


class PasswordResetConfirmInput(serializers.Serializer):
    uid = serializers.CharField(max_length=64, help_text="The reset link's uidb64 part")
    token = serializers.CharField(max_length=128, help_text="The reset link's token part")
    new_password = serializers.CharField(max_length=4096, trim_whitespace=False)


def _recoded(detail, code: str):
    if isinstance(detail, dict):
        return {key: _recoded(value, code) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_recoded(item, code) for item in detail]
    return serializers.ErrorDetail(str(detail), code=code)


class TextInput(serializers.CharField):
    """Text only: DRF's CharField takes a JSON number as its digits."""

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class RevocationInput(serializers.Serializer):
    """RFC 7009 §2.1's parameters; every refusal carries the RFC's code, invalid_request."""

    # Text only: any string is a token to look up (200 if unknown), so a number must not
    # pass as one.
    token = TextInput(trim_whitespace=False, help_text="The token to revoke.")
    token_type_hint = TextInput(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=(
            "`refresh_token` or `access_token`: which kind to look for first. Any other "
            "value is ignored, and a wrong hint does not stop the token being found."
        ),
    )

    def run_validation(self, data=serializers.empty):
        try:
            return super().run_validation(data)
        except serializers.ValidationError as exc:
            detail = _recoded(serializers.as_serializer_error(exc), "invalid_request")
            raise serializers.ValidationError(detail) from exc


class PasswordChangeInput(serializers.Serializer):
    old_password = serializers.CharField(max_length=4096, trim_whitespace=False)
    new_password = serializers.CharField(max_length=4096, trim_whitespace=False)


class ProductQueryInput(serializers.Serializer):
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Text in name or description"
    )
    category = serializers.SlugField(
        required=False, allow_blank=True, max_length=100, help_text="A category's slug"
    )


# The schema publishes a line's bounds, so a client can know them without trying.
class CartItemInput(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    quantity = serializers.IntegerField(default=1, min_value=1, max_value=MAX_LINE_QUANTITY)


class CartItemUpdateInput(serializers.Serializer):
    """A PATCH: a body without ``quantity`` changes nothing."""

    quantity = serializers.IntegerField(required=False, min_value=0, max_value=MAX_LINE_QUANTITY)


# --- Outputs ----------------------------------------------------------------------------


class HealthOutput(serializers.Serializer):
    status = serializers.CharField()


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class BrowserAccessOutput(serializers.Serializer):
    # No refresh token: a browser client's is in the HttpOnly cookie (api/browser_views.py).
    access = serializers.CharField()
    access_expires_at = serializers.IntegerField(
        help_text="When the access token expires, in Unix seconds: refresh before then."
    )


class EmptyOutput(serializers.Serializer):
    pass


class DetailOutput(serializers.Serializer):
    detail = serializers.CharField()


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()


class CategoryOutput(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class ProductOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()
    description = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    stock = serializers.IntegerField()
    category = CategoryOutput()


class CartProductOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)


class CartLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    product = CartProductOutput()
    quantity = serializers.IntegerField()
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)


# Renders shop.selectors.cart_contents: the lines and total the storefront's cart page shows.
# (A comment, not a docstring: drf-spectacular would publish a docstring in the schema.)
class CartOutput(serializers.Serializer):
    lines = CartLineOutput(many=True)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)


class OrderLineOutput(serializers.Serializer):
    product = serializers.IntegerField(source="product_id")
    product_name = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2)
    quantity = serializers.IntegerField()
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)


class OrderOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    created_at = serializers.DateTimeField()
    lines = OrderLineOutput(many=True)


class SignInOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=SignIn.Kind.choices)
    browser = serializers.CharField()
    os = serializers.CharField()
    device = serializers.CharField()
    ip_address = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    current = serializers.BooleanField()
