"""
Storefront account views: the user is identified by their session. Each view checks the
request, calls accounts.services / accounts.selectors (and the session helpers in
accounts.sessions), and renders; none of them decides anything on its own.

Set the views that have a twin in api/views.py (me, devices, revoking a device) beside
it: they call the same services and selectors in the same order, and differ only in how
the user is identified (the session here, the bearer token there) and how the answer is
rendered (templates, messages and redirects here, JSON there).
"""

from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from config.forms import add_service_error

from . import lockout, selectors, services, sessions
from .forms import (
    AdminLoginForm,
    EmailLoginForm,
    EmailPasswordResetForm,
    PasswordChangeForm,
    SignUpForm,
)
from .models import SignIn, User
from .outage import answers_json


def _too_many_requests(response, limited: lockout.TooManyRequests | None):
    """Mark the re-rendered form's response 429 with Retry-After when a limit refused it."""
    if limited is not None:
        response.status_code = 429
        response["Retry-After"] = str(limited.retry_after)
    return response


def _current_user_row(request) -> User:
    # request.user is built from the session's snapshot; writes that need the whole row
    # (the password hash, to check the old password) read it fresh.
    return selectors.user_get(pk=request.user.pk)


class LoginView(auth_views.LoginView):
    """Sign in with email and password; 429 with a clear message while locked out."""

    authentication_form = EmailLoginForm
    template_name = "accounts/login.html"

    def form_valid(self, form):
        user = form.get_user()
        # Signing in keeps the visitor's cart: the shop listens for it (shop/signals.py).
        sessions.session_sign_in(
            request=self.request, user=user, remember=form.cleaned_data.get("remember_me", False)
        )
        messages.success(self.request, f"Signed in as {user.email}.")
        return HttpResponseRedirect(self.get_success_url())

    def form_invalid(self, form):
        return _too_many_requests(super().form_invalid(form), form.locked)


class AdminLoginView(LoginView):
    """The admin's sign-in page, with the storefront's lockout and session bookkeeping."""

    authentication_form = AdminLoginForm
    template_name = "admin/login.html"

    def dispatch(self, request, *args, **kwargs):
        if request.method == "GET" and admin.site.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        return super().dispatch(request, *args, **kwargs)

    def get_default_redirect_url(self):
        return reverse("admin:index")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                **admin.site.each_context(self.request),
                "title": "Log in",
                "subtitle": None,
                "app_path": self.request.get_full_path(),
                "username": self.request.user.get_username(),
            }
        )
        if not context.get(REDIRECT_FIELD_NAME):
            context[REDIRECT_FIELD_NAME] = reverse("admin:index")
        return context

    def form_valid(self, form):
        user = form.get_user()
        sessions.session_sign_in(request=self.request, user=user, remember=False)
        return HttpResponseRedirect(self.get_success_url())


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only): end this sign-in in the index and delete the session."""

    def post(self, request, *args, **kwargs):
        sessions.session_sign_out(request=request, reason=SignIn.EndReason.SIGNED_OUT)
        messages.info(request, "You have signed out.")
        return HttpResponseRedirect(self.get_success_url())


@never_cache
def signup(request):
    """Create an account, sign it in and keep the visitor's cart."""
    if request.user.is_authenticated:
        return redirect("shop:catalog")
    form = SignUpForm(request.POST or None)
    limited = None
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_sign_up(
                request=request,
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
        except lockout.TooManyRequests as exc:
            form.add_error(None, str(exc))
            limited = exc
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            sessions.session_sign_in(request=request, user=user, remember=False)
            messages.success(request, f"Welcome! Your account {user.email} is ready.")
            return redirect("shop:catalog")
    return _too_many_requests(render(request, "accounts/signup.html", {"form": form}), limited)


class PasswordChangeView(auth_views.PasswordChangeView):
    """
    Change the password: every other sign-in of the user ends at once (sessions and API
    tokens); this one carries on under a new session key.
    """

    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("accounts:password_change_done")
    form_class = PasswordChangeForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = _current_user_row(self.request)
        kwargs["request"] = self.request
        return kwargs

    def form_invalid(self, form):
        return _too_many_requests(super().form_invalid(form), form.locked)

    def form_valid(self, form):
        keep = selectors.user_sign_in_get(
            user=form.user, sign_in_id=sessions.session_sign_in_id(self.request)
        )
        try:
            services.user_password_change(
                user=form.user, new_password=form.cleaned_data["new_password1"], keep=keep
            )
        except ValidationError as exc:
            form.add_error("new_password1", exc)
            return self.form_invalid(form)
        sessions.session_password_changed(request=self.request, user=form.user)
        messages.success(self.request, "Your password was changed; your other sign-ins ended.")
        return HttpResponseRedirect(self.get_success_url())


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link: accounts.services sends it, as it does for the API."""

    template_name = "accounts/password_reset_form.html"
    form_class = EmailPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        try:
            services.user_password_reset_request(
                request=self.request, email=form.cleaned_data["email"]
            )
        except lockout.TooManyRequests as exc:
            form.add_error(None, str(exc))
            return _too_many_requests(self.form_invalid(form), exc)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Set a new password from a reset link; every sign-in of the user ends."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        try:
            services.user_password_reset_complete(
                user=form.user, new_password=form.cleaned_data["new_password1"]
            )
        except ValidationError as exc:
            form.add_error("new_password1", exc)
            return self.form_invalid(form)
        self.request.session.pop(auth_views.INTERNAL_RESET_SESSION_TOKEN, None)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@answers_json
@require_GET
def me(request):
    """
    The signed-in user as JSON, the same answer as the API's /api/me/ (so the benchmark
    compares the two edges on equal work). Not never_cache: PrivateNoStoreMiddleware marks
    every response to a signed-in user no-store.
    """
    user = request.user
    if not user.is_authenticated:
        return JsonResponse({"detail": "Authentication credentials were not provided."}, status=401)
    return JsonResponse({"id": user.pk, "email": user.email})


@never_cache
@login_required
@require_GET
def devices(request):
    """Every live sign-in of the user: browser sessions and API tokens."""
    services.user_sign_ins_reconcile(user=request.user)
    devices = selectors.user_devices(user=request.user)
    return render(
        request,
        "accounts/devices.html",
        {"devices": devices, "current_sign_in_id": sessions.session_sign_in_id(request)},
    )


@never_cache
@login_required
@require_POST
def device_revoke(request, sign_in_id):
    """End one of the user's sign-ins; ending this one is a sign-out."""
    try:
        services.sign_in_revoke(user=request.user, sign_in_id=sign_in_id)
    except SignIn.DoesNotExist as exc:
        raise Http404("No such sign-in.") from exc
    if str(sign_in_id) == sessions.session_sign_in_id(request):
        sessions.session_sign_out(request=request, reason=SignIn.EndReason.REVOKED)
        messages.info(request, "This device was signed out.")
        return redirect("accounts:login")
    messages.success(request, "That sign-in was ended.")
    return redirect("accounts:devices")


@never_cache
@login_required
@require_POST
def devices_sign_out_others(request):
    """End every sign-in of the user except this one."""
    keep = selectors.user_sign_in_get(
        user=request.user, sign_in_id=sessions.session_sign_in_id(request)
    )
    ended = services.user_sign_out_everywhere(
        user=request.user, reason=SignIn.EndReason.SIGNED_OUT_EVERYWHERE, keep=keep
    )
    messages.success(request, f"Signed out of {ended} other sign-in{'s' if ended != 1 else ''}.")
    return redirect("accounts:devices")
