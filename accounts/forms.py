"""Storefront and admin forms for signing in and managing an account."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError

from . import services
from .models import User


class NormalizedEmailField(forms.EmailField):
    """
    An email address normalised as it is stored (NFKC, lower-cased; see UserManager)
    before it is validated, as Django's UsernameField does: a look-alike is the same
    address, and an address that normalising breaks is a form error.
    """

    def to_python(self, value):
        value = super().to_python(value)
        return User.objects.normalize_email_address(value) if value else value


class EmailLoginForm(AuthenticationForm):
    """
    Email and password, checked by accounts.services.credentials_authenticate (which
    applies the brute-force lockout). The field names stay ``username`` and ``password``,
    as Django's own login form has them, so scripts and benchmarks can post to it.
    """

    username = NormalizedEmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    remember_me = forms.BooleanField(
        label="Remember me",
        required=False,
        help_text="Stay signed in on this device for up to 14 days.",
    )

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.locked: services.LoginLocked | None = None

    def clean(self):
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email and password:
            try:
                self.user_cache = services.credentials_authenticate(
                    request=self.request, email=email, password=password
                )
            except services.LoginLocked as exc:
                self.locked = exc
                raise ValidationError(str(exc), code="locked") from exc
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class AdminLoginForm(EmailLoginForm, AdminAuthenticationForm):
    """The admin's sign-in: the same lockout, and staff only (Django's admin rule)."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # "Remember me" belongs to the storefront; staff sessions keep the shorter limit.
        del self.fields["remember_me"]


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """
    Django's form, with the old password checked by credentials_authenticate: guesses at it
    share the account's sign-in counter, and while it is locked none is checked.
    """

    def __init__(self, user, *args, request=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request
        self.locked: services.LoginLocked | None = None

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        try:
            services.credentials_authenticate(
                request=self.request, email=self.user.email, password=old_password
            )
        except services.LoginLocked as exc:
            self.locked = exc
            raise ValidationError(str(exc), code="locked") from exc
        except ValidationError as exc:
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            ) from exc
        return old_password


class SignUpForm(forms.Form):
    """A new customer account; the checks themselves run in accounts.services.user_sign_up."""

    email = NormalizedEmailField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    first_name = forms.CharField(
        label="First name",
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label="Last name",
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not a common password, not all digits.",
    )
    password_confirm = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        password, confirm = cleaned.get("password"), cleaned.get("password_confirm")
        if password and confirm and password != confirm:
            self.add_error("password_confirm", "The two passwords do not match.")
        return cleaned


class EmailPasswordResetForm(PasswordResetForm):
    """Django's reset form, finding the account by its normalised address."""

    email = NormalizedEmailField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
