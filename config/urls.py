from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.views import AdminLoginView
from api.views import authorization_server_metadata, jwks


class FaviconView(RedirectView):
    """Send browsers that ask for /favicon.ico on their own to the site's static icon."""

    # Temporary: the static file's hashed name changes whenever the icon does.
    permanent = False

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.svg")


urlpatterns = [
    # The admin signs in through the storefront's lockout and sign-in bookkeeping; this
    # route comes first so it shadows the admin's own login view.
    path("admin/login/", AdminLoginView.as_view(), name="admin_login"),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("app/", include("webclient.urls")),
    path(".well-known/jwks.json", jwks, name="jwks"),
    path(
        ".well-known/oauth-authorization-server",
        authorization_server_metadata,
        name="oauth_authorization_server_metadata",
    ),
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    path("accounts/", include("accounts.urls")),
    path("compare/", include("compare.urls")),
    path("", include("shop.urls")),
]

# Pages for the storefront, JSON bodies under /api/; see config/errors.py.
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
