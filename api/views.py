"""
API views: JSON over the shop core and the account services, the user identified by a JWT
bearer token. Set them beside the storefront's views (shop/views.py, accounts/views.py):
the calls into shop.services, shop.selectors and accounts.services are the same, in the
same order; only the way the user is identified and the way the answer is rendered differ.

Views validate the shape of their input with a serializer, call one service or selector,
and render the result. Errors from the core (ValidationError, DoesNotExist, LoginLocked,
TokenError) are turned into responses by api.exceptions, never caught here.
"""

import dataclasses

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import SignIn
from config import errors
from shop import selectors, services
from shop.models import Product

from . import serializers as s
from . import token_services
from .authentication import request_account
from .keys import jwks_document, verifying_keys
from .schema import error_response
from .tokens import SID_CLAIM

RESET_EMAIL_SENT = "If an account has this address, an email with a reset link is on its way."


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- Health and keys --------------------------------------------------------------------


class HealthView(APIView):
    """Liveness: no authentication, no database, no Redis. The API's benchmark floor."""

    authentication_classes = ()
    permission_classes = ()

    @extend_schema(responses=s.HealthOutput, tags=["health"])
    def get(self, request):
        return Response({"status": "ok"})


@require_GET
@cache_control(public=True, max_age=300)
def jwks(request):
    """Publish the public key that verifies our tokens (RS256/EdDSA); 404 under HS256."""
    document = jwks_document()
    if document is None:
        return JsonResponse(
            {
                "detail": "Tokens are signed with a shared secret; there is no public key.",
                "code": "not_found",
            },
            status=status.HTTP_404_NOT_FOUND,
        )
    return JsonResponse(document)


@require_GET
@cache_control(public=True, max_age=300)
def authorization_server_metadata(request):
    """
    Publish RFC 8414 authorization-server metadata: the issuer our tokens carry, the token
    and revocation endpoints, where the public keys are, and the signing algorithms.
    """
    url = request.build_absolute_uri
    algorithms = dict.fromkeys(key.algorithm for key in verifying_keys())
    document = {
        # The tokens' iss, which a resource server compares with its own setting. RFC 8414
        # wants the site's https URL here: set JWT_ISSUER to it (the default is a name).
        "issuer": settings.SIMPLE_JWT["ISSUER"],
        "token_endpoint": url(reverse("api:token_obtain")),
        # The API's own JSON requests (email and password; refresh at its own endpoint),
        # not RFC 6749's form posts: see docs/jwt.md.
        "grant_types_supported": ["password", "refresh_token"],
        # No authorization endpoint, so no response types.
        "response_types_supported": [],
        # Public clients: no client authentication, hence no
        # token_endpoint_auth_signing_alg_values_supported (private_key_jwt and
        # client_secret_jwt only), and no ID tokens (not OpenID Connect).
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint": url(reverse("api:token_revoke")),
        "revocation_endpoint_auth_methods_supported": ["none"],
        # Not a registered name (RFC 8414 §2 allows more): what the access tokens are
        # signed with, the current key's algorithm first.
        "access_token_signing_alg_values_supported": list(algorithms),
        "service_documentation": url(reverse("api:docs")),
    }
    if jwks_document() is not None:
        document["jwks_uri"] = url(reverse("jwks"))
    return JsonResponse(document)


# --- Tokens -----------------------------------------------------------------------------


class PublicTokenView(APIView):
    """A token endpoint: the body carries the credential, so no Authorization header is read."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get_authenticate_header(self, request):
        # Keeps a refused token a 401 (DRF turns a 401 without this header into a 403).
        return 'Bearer realm="api"'


class TokenObtainView(PublicTokenView):
    """
    Check the email and password, with the storefront's lockout, and start a token sign-in.
    An unknown email, a wrong password and an inactive account get the same 400. With
    ``resource`` (RFC 8707) the access tokens are for that service, not for this API.
    """

    @extend_schema(
        request=s.TokenObtainInput,
        responses={200: s.TokenPairOutput, 429: error_response(429)},
        tags=["auth"],
        summary="Sign in: trade email and password for an access and a refresh token",
    )
    def post(self, request):
        data = _valid(s.TokenObtainInput, request.data)
        pair = token_services.token_obtain(
            request=request,
            email=data["email"],
            password=data["password"],
            resource=data.get("resource"),
        )
        return Response(s.TokenPairOutput(pair).data)


class TokenRefreshView(PublicTokenView):
    """
    Rotate a refresh token within its sign-in, never past the sign-in's absolute cap.
    A refresh token already rotated gets the same new pair within
    JWT_REFRESH_REUSE_INTERVAL_SECONDS (a retry); later it ends its sign-in (reuse).
    """

    @extend_schema(
        request=s.TokenRefreshInput,
        responses={200: s.TokenPairOutput, 401: error_response(401)},
        tags=["auth"],
        summary="Rotate a refresh token: a new pair; the old refresh token is used up",
    )
    def post(self, request):
        data = _valid(s.TokenRefreshInput, request.data)
        pair = token_services.token_refresh(raw=data["refresh"], resource=data.get("resource"))
        return Response(s.TokenPairOutput(pair).data)


class TokenVerifyView(PublicTokenView):
    """Answer 200 if the token would be accepted now, 401 otherwise; ends nothing."""

    @extend_schema(
        request=s.TokenInput,
        responses={200: s.EmptyOutput, 401: error_response(401)},
        tags=["auth"],
        summary="Tell whether an access or refresh token would be accepted now",
    )
    def post(self, request):
        data = _valid(s.TokenInput, request.data)
        token_services.token_verify(raw=data["token"])
        return Response({})


class LogoutView(PublicTokenView):
    """
    End the sign-in of the refresh token: its refresh tokens are blacklisted (and its access
    tokens refused at once with JWT_ACCESS_DENYLIST). Logging out twice is not an error.
    """

    @extend_schema(
        request=s.RefreshInput,
        responses={204: None, 401: error_response(401)},
        tags=["auth"],
        summary="End the sign-in of this refresh token",
    )
    def post(self, request):
        data = _valid(s.RefreshInput, request.data)
        token_services.token_logout(raw=data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRevokeView(PublicTokenView):
    """
    OAuth 2.0 token revocation (RFC 7009) for a public client: no client authentication,
    the token itself is the credential. A refresh token ends its sign-in, as logout does;
    an access token ends its sign-in with JWT_ACCESS_DENYLIST on, and changes nothing
    without it. Any token it cannot use (malformed, expired, unknown, already revoked)
    answers 200 as well, as the RFC says.
    """

    # RFC 7009 clients send a form; the rest of the API takes JSON only.
    parser_classes = (JSONParser, FormParser)

    @extend_schema(
        request=s.RevocationInput,
        responses={200: s.EmptyOutput},
        tags=["auth"],
        summary="Revoke a refresh or access token (RFC 7009); 200 for any token",
    )
    def post(self, request):
        data = _valid(s.RevocationInput, request.data)
        token_services.token_revoke(raw=data["token"], hint=data.get("token_type_hint", ""))
        return Response({})


class LogoutAllView(APIView):
    """End every token sign-in of the user, this one included."""

    @extend_schema(
        request=None,
        responses={204: None},
        tags=["auth"],
        summary="End every API sign-in of the user (browser sessions carry on)",
    )
    def post(self, request):
        token_services.user_token_sign_ins_end(
            user=request_account(request), reason=SignIn.EndReason.SIGNED_OUT_EVERYWHERE
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    """
    Change the password from this sign-in: every other sign-in of the user ends (browser
    sessions too), every earlier access and refresh token stops working, and a new token
    pair for this sign-in comes back.
    """

    @extend_schema(
        request=s.PasswordChangeInput,
        responses={200: s.TokenPairOutput, 429: error_response(429)},
        tags=["auth"],
        summary="Change the password; every other sign-in ends; a new token pair for this one",
    )
    def post(self, request):
        data = _valid(s.PasswordChangeInput, request.data)
        pair = token_services.token_password_change(
            request=request,
            user=request_account(request),
            sid=request.auth[SID_CLAIM],
            old_password=data["old_password"],
            new_password=data["new_password"],
        )
        return Response(s.TokenPairOutput(pair).data)


class SignUpView(PublicTokenView):
    """
    Create a customer account with the storefront's rules (accounts.services.user_sign_up):
    the same validators, normalisation and per-address limit. It does not sign in: ask
    /api/auth/token/ for tokens next.
    """

    @extend_schema(
        request=s.SignUpInput,
        responses={201: s.MeOutput, 429: error_response(429)},
        tags=["auth"],
        summary="Create an account",
    )
    def post(self, request):
        data = _valid(s.SignUpInput, request.data)
        user = account_services.user_sign_up(
            request=request,
            email=data["email"],
            password=data["password"],
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
        )
        return Response(s.MeOutput(user).data, status=status.HTTP_201_CREATED)


class PasswordResetView(PublicTokenView):
    """
    Email a reset link to the account with this address, as the storefront's reset page
    does. The answer is the same whether or not there is one.
    """

    @extend_schema(
        request=s.PasswordResetInput,
        responses={202: s.DetailOutput, 429: error_response(429)},
        tags=["auth"],
        summary="Ask for a password-reset email",
    )
    def post(self, request):
        data = _valid(s.PasswordResetInput, request.data)
        account_services.user_password_reset_request(request=request, email=data["email"])
        return Response({"detail": RESET_EMAIL_SENT}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(PublicTokenView):
    """
    Set a new password with the ``uid`` and ``token`` of a reset link: every sign-in of the
    user ends, browser sessions and API tokens alike.
    """

    @extend_schema(
        request=s.PasswordResetConfirmInput,
        responses={204: None},
        tags=["auth"],
        summary="Set a new password from a reset link; every sign-in ends",
    )
    def post(self, request):
        data = _valid(s.PasswordResetConfirmInput, request.data)
        account_services.user_password_reset_confirm(
            uidb64=data["uid"], token=data["token"], new_password=data["new_password"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Account ----------------------------------------------------------------------------


class MeView(APIView):
    """The signed-in user. In stateless mode, straight from the token's claims."""

    @extend_schema(responses=s.MeOutput, tags=["account"])
    def get(self, request):
        user = request.user
        return Response({"id": int(user.id), "email": user.email})


class SignInListView(APIView):
    """The user's live sign-ins: the same list as the storefront's devices page."""

    @extend_schema(responses=s.SignInOutput(many=True), tags=["account"])
    def get(self, request):
        user = request_account(request)
        account_services.user_sign_ins_reconcile(user=user)
        devices = account_selectors.user_devices(user=user)
        current = request.auth.get(SID_CLAIM)
        return Response(
            s.SignInOutput([_device_fields(d, current) for d in devices], many=True).data
        )


def _device_fields(device, current_sid: str | None) -> dict:
    sign_in = device.sign_in
    return {
        "id": sign_in.pk,
        "kind": sign_in.kind,
        "browser": device.browser,
        "os": device.os,
        "device": device.device,
        "ip_address": sign_in.ip_address,
        "user_agent": sign_in.user_agent,
        "created_at": sign_in.created_at,
        "last_seen_at": sign_in.last_seen_at,
        "expires_at": sign_in.expires_at,
        "current": str(sign_in.pk) == current_sid,
    }


class SignInDetailView(APIView):
    @extend_schema(responses={204: None}, tags=["account"])
    def delete(self, request, pk):
        """Revoke one of the user's sign-ins: a browser session or an API token chain."""
        account_services.sign_in_revoke(user=request_account(request), sign_in_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Catalog ----------------------------------------------------------------------------


@extend_schema(tags=["catalog"])
class ProductListView(generics.ListAPIView):
    """Active products, by search text and category, a page at a time. No token needed."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    serializer_class = s.ProductOutput

    def get_queryset(self):
        query = _valid(s.ProductQueryInput, self.request.query_params)
        return selectors.product_list(
            query=query.get("search", ""), category_slug=query.get("category", "")
        )

    # The query serializer itself documents the parameters: its limits (length, slug
    # pattern) are in the schema, not only enforced.
    @extend_schema(parameters=[s.ProductQueryInput])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ProductDetailView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(responses=s.ProductOutput, tags=["catalog"])
    def get(self, request, pk):
        return Response(s.ProductOutput(selectors.product_get(pk=pk)).data)


# --- Cart -------------------------------------------------------------------------------


# Which cart a request is about: the token's user's, the one the storefront shows them too.
# The storefront's twins are shop.session_cart.session_cart_get and _get_or_create.
def _token_cart_get(request):
    return selectors.cart_get_for_user(user=request_account(request))


def _token_cart_get_or_create(request):
    return services.cart_get_or_create_for_user(user=request_account(request))


class CartView(APIView):
    """The user's one cart, the same one the storefront shows at /cart/."""

    @extend_schema(responses=s.CartOutput, tags=["cart"])
    def get(self, request):
        contents = selectors.cart_contents(cart=_token_cart_get(request))
        return Response(s.CartOutput(contents).data)

    @extend_schema(responses={204: None}, tags=["cart"])
    def delete(self, request):
        services.cart_clear(cart=_token_cart_get_or_create(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CartItemListView(APIView):
    @extend_schema(request=s.CartItemInput, responses={201: s.CartOutput}, tags=["cart"])
    def post(self, request):
        """Add a quantity of a product to the cart (on top of any already there)."""
        data = _valid(s.CartItemInput, request.data)
        try:
            product = selectors.product_get(pk=data["product"])
        except Product.DoesNotExist:
            # A missing product in the body is bad input (400), not a missing resource (404).
            raise ValidationError(
                {"product": ValidationError("No such product.", code="does_not_exist")}
            ) from None
        cart = _token_cart_get_or_create(request)
        services.cart_add_item(cart=cart, product=product, quantity=data["quantity"])
        contents = selectors.cart_contents(cart=cart)
        return Response(s.CartOutput(contents).data, status=status.HTTP_201_CREATED)


class CartItemDetailView(APIView):
    @extend_schema(request=s.CartItemUpdateInput, responses=s.CartOutput, tags=["cart"])
    def patch(self, request, pk):
        """Set the line's quantity; 0 removes it; no quantity changes nothing."""
        data = _valid(s.CartItemUpdateInput, request.data)
        line = selectors.cart_line_get(cart=_token_cart_get(request), pk=pk)
        if "quantity" in data:
            services.cart_set_quantity(
                cart=line.cart, product=line.product, quantity=data["quantity"]
            )
        contents = selectors.cart_contents(cart=line.cart)
        return Response(s.CartOutput(contents).data)

    @extend_schema(responses={204: None}, tags=["cart"])
    def delete(self, request, pk):
        """Remove one line from the cart."""
        line = selectors.cart_line_get(cart=_token_cart_get(request), pk=pk)
        services.cart_remove_item(cart=line.cart, product=line.product)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Orders -----------------------------------------------------------------------------


class OrderListView(generics.ListAPIView):
    """The user's orders, newest first: placed here or on the storefront."""

    serializer_class = s.OrderOutput

    def get_queryset(self):
        return selectors.order_list(user=request_account(self.request))

    @extend_schema(tags=["orders"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=None,
        responses={201: s.OrderOutput},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                # What order_place accepts: 1 to 64 characters, not only spaces.
                {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"\S"},
                OpenApiParameter.HEADER,
                description="1 to 64 characters; a retry with the same key returns the same order.",
            )
        ],
        tags=["orders"],
        summary="Place an order from the cart",
    )
    def post(self, request):
        order = services.order_place(
            user=request_account(request),
            cart=_token_cart_get_or_create(request),
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        return Response(s.OrderOutput(order).data, status=status.HTTP_201_CREATED)


class OrderDetailView(APIView):
    @extend_schema(responses=s.OrderOutput, tags=["orders"])
    def get(self, request, pk):
        """One of the user's orders; another user's order is a 404."""
        return Response(
            s.OrderOutput(selectors.order_get(user=request_account(request), pk=pk)).data
        )


@csrf_exempt  # it changes nothing; a POST to a mistyped path must learn that, not about CSRF
def endpoint_not_found(request):
    """
    Every other path under /api/: a JSON 404 whatever DEBUG says (api/urls.py ends with it).

    A path that only lacks its trailing slash is named in the answer. Django's
    CommonMiddleware would redirect it instead, which drops a POST's body, and with DEBUG
    on it raises for a POST.
    """
    kind = errors.NOT_FOUND
    if not request.path_info.endswith("/") and _resolves_to_an_endpoint(request.path_info + "/"):
        hint = f" Did you mean {request.path}/ (with a trailing slash)?"
        kind = dataclasses.replace(kind, detail=kind.detail + hint)
    return errors.error_response(request, kind, as_json=True)


def _resolves_to_an_endpoint(path: str) -> bool:
    try:
        return resolve(path).view_name != "api:not_found"
    except Resolver404:
        return False
