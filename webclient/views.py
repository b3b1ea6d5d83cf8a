"""
The single page of the browser client. It is a static shell: everything the user sees
after it loads comes from the JWT API through ``webclient/static/webclient/*.js``.

The page offers three ways to hold the tokens (docs/browser-client.md): in page memory,
the refresh token in an HttpOnly cookie, and, as a demonstration only, in localStorage.
"""

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

# The page holds bearer tokens in memory, so script injection is the threat that matters:
# only our own files may run (no inline script, no eval, no other origin), the DOM is built
# without HTML-parsing sinks (Trusted Types with no policy allowed), and the page talks to
# nobody but its own origin.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        # The sign-in form is sent by script as JSON; a plain submit (say, before the
        # script loaded) must go nowhere rather than put the password in a URL.
        "form-action 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    ]
)


@require_safe
@ensure_csrf_cookie
def app(request):
    """Serve the client's shell with its Content-Security-Policy and Django's CSRF cookie."""
    # Rendered without the request: the page is the same for everyone and reads no
    # session, so the storefront's sign-in plays no part in it. The cookie pattern's
    # endpoints want Django's CSRF token in a header: the script reads it from the CSRF
    # cookie this view sets, by the name the page gives it.
    context = {
        "csrf_cookie_name": settings.CSRF_COOKIE_NAME,
        "localstorage_demo": settings.WEBCLIENT_LOCALSTORAGE_DEMO,
    }
    response = HttpResponse(render_to_string("webclient/app.html", context))
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response["Cache-Control"] = "no-cache"
    return response
