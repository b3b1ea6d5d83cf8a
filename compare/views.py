"""
The comparison page: sessions and JWT side by side, filled from the running site for the
visitor who asks.

The views measure first (resolving ``request.user`` is part of what the page shows, so it
must happen inside the measurement, before anything else reads the session), then call
the selectors and services in this package, and render.
"""

from pathlib import Path

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from . import benchmark, costs, selectors, services


def bench_results_path() -> Path:
    """Where ``make bench`` writes its results (``COMPARE_BENCH_RESULTS`` overrides it)."""
    return Path(
        getattr(settings, "COMPARE_BENCH_RESULTS", settings.BASE_DIR / "bench/results/latest.json")
    )


def xss_exposure_path() -> Path:
    """Where the XSS measurement is committed (``COMPARE_XSS_EXPOSURE`` overrides it)."""
    return Path(getattr(settings, "COMPARE_XSS_EXPOSURE", selectors.XSS_EXPOSURE_PATH))


def comparison_doc_path() -> Path:
    """The written comparison the page sums up: docs/comparison.md in the repository."""
    return settings.BASE_DIR / "docs" / "comparison.md"


def _context(request, *, session_cost) -> dict:
    context = {
        "session_cost": session_cost,
        "session_backend": selectors.SESSION_BACKEND_LABELS.get(
            settings.SESSION_ENGINE, settings.SESSION_ENGINE
        ),
        "cookie_policy": selectors.session_cookie_policy(),
        "policy": selectors.jwt_policy(),
        "jwt_mode": services.jwt_mode_label(),
        "bench": benchmark.bench_summary(bench_results_path()),
        "throttle_seconds": settings.SESSION_ACTIVITY_THROTTLE_SECONDS,
        "xss": selectors.xss_exposure(xss_exposure_path()),
    }
    user = request.user
    if not user.is_authenticated:
        return context
    demo = services.demo_credentials_get(request=request, user=user)
    context.update(
        cookie=selectors.session_cookie(request=request),
        session_record=selectors.session_record(request=request),
        demo=demo,
        access=selectors.token_decode(demo.access, kind="access"),
        refresh=selectors.refresh_token_on_record(sign_in=demo.sign_in),
        token_storage=selectors.token_storage(user=user),
        token_cost=costs.token_authentication_cost(access=demo.access),
    )
    return context


@never_cache
@require_safe
def compare(request):
    """Show both models for this visitor: what each side holds, stores and spends."""
    session_cost = costs.session_authentication_cost(request)
    return render(request, "compare/page.html", _context(request, session_cost=session_cost))


@never_cache
@require_POST
def revocation_experiment(request):
    """
    Start a second session and a second token pair for the visitor, revoke both, and show
    which credential still works and for how long.
    """
    session_cost = costs.session_authentication_cost(request)
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("compare"))
    experiment = services.revocation_experiment_run(request=request, user=request.user)
    context = _context(request, session_cost=session_cost)
    context["experiment"] = experiment
    return render(request, "compare/page.html", context)


@require_safe
def comparison_doc(request):
    """Serve docs/comparison.md as it is in the repository, as Markdown text."""
    return HttpResponse(
        comparison_doc_path().read_text(encoding="utf-8"),
        content_type="text/markdown; charset=utf-8",
    )
