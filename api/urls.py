from django.urls import path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import browser_views, views
from .converters import ApiIdConverter

register_converter(ApiIdConverter, "api_id")

app_name = "api"

urlpatterns = [
    path("healthz/", views.HealthView.as_view(), name="healthz"),
    path("auth/token/", views.TokenObtainView.as_view(), name="token_obtain"),
    path("auth/token/refresh/", views.TokenRefreshView.as_view(), name="token_refresh"),
    path("auth/token/verify/", views.TokenVerifyView.as_view(), name="token_verify"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("auth/revoke/", views.TokenRevokeView.as_view(), name="token_revoke"),
    path("auth/logout-all/", views.LogoutAllView.as_view(), name="logout_all"),
    path(
        "auth/browser/token/",
        browser_views.BrowserTokenObtainView.as_view(),
        name="browser_token_obtain",
    ),
    path(
        "auth/browser/refresh/",
        browser_views.BrowserTokenRefreshView.as_view(),
        name="browser_token_refresh",
    ),
    path("auth/browser/logout/", browser_views.BrowserLogoutView.as_view(), name="browser_logout"),
    path("auth/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("auth/signup/", views.SignUpView.as_view(), name="signup"),
    path("auth/password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "auth/password-reset/confirm/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("me/", views.MeView.as_view(), name="me"),
    path("sessions/", views.SignInListView.as_view(), name="sign_in_list"),
    path("sessions/<uuid:pk>/", views.SignInDetailView.as_view(), name="sign_in_detail"),
    path("products/", views.ProductListView.as_view(), name="product_list"),
    path("products/<api_id:pk>/", views.ProductDetailView.as_view(), name="product_detail"),
    path("cart/", views.CartView.as_view(), name="cart"),
    path("cart/items/", views.CartItemListView.as_view(), name="cart_item_list"),
    path("cart/items/<api_id:pk>/", views.CartItemDetailView.as_view(), name="cart_item_detail"),
    path("orders/", views.OrderListView.as_view(), name="order_list"),
    path("orders/<api_id:pk>/", views.OrderDetailView.as_view(), name="order_detail"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # No OPTIONS metadata: the page's HTML renderer cannot render it (it answered 500).
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api:schema", metadata_class=None),
        name="docs",
    ),
    # Last: any other path is a JSON 404, with DEBUG on too (see the view).
    re_path(r"^.*$", views.endpoint_not_found, name="not_found"),
]
