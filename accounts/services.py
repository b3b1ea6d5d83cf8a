"""
Account actions shared by the storefront (sessions) and the API (tokens).

Sign-in checks, the brute-force lockout and the per-user index of sign-ins live here once;
each edge only decides how to identify the user and how to render the answer.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.http import urlsafe_base64_decode

from . import selectors
from .lockout import (
    PASSWORD_RESET,
    SIGNUP,
    address_attempt_record,
    login_attempt_begin,
    login_attempt_succeeded,
    request_client_ip,
)
from .lockout import LoginLocked as LoginLocked
from .models import SignIn, User

INVALID_CREDENTIALS_MESSAGE = "Please enter a correct email and password."
INVALID_RESET_LINK_MESSAGE = (
    "This password reset link is invalid or has expired; ask for a new one."
)

# The ids of the sign-ins ended inside a sign_in_end_tracking() block. The storefront's
# middleware opens one per request, so that a request which ends its own sign-in (revoking
# "this device", an admin signing themselves out everywhere) leaves signed out instead of
# writing back a session that was just deleted from the store.
_ended_sign_ins: ContextVar[set[str] | None] = ContextVar("ended_sign_ins", default=None)


def credentials_authenticate(*, request, email: str, password: str) -> User:
    """
    Return the active user with these credentials.

    Raise LoginLocked while locked out (the password then is not even checked), and one generic
    ValidationError for an unknown email, a wrong password and an inactive account alike,
    so that the answer does not reveal which accounts exist.
    """
    ip = request_client_ip(request)
    # Counted before the password is checked: see accounts.lockout.
    login_attempt_begin(email=email, ip=ip)
    user = authenticate(request, username=email, password=password)
    if user is None or not user.is_active:
        raise ValidationError(INVALID_CREDENTIALS_MESSAGE, code="invalid_login")
    login_attempt_succeeded(email=email, ip=ip)
    return user


def _session_store_class():
    return import_module(settings.SESSION_ENGINE).SessionStore


def sign_in_start(
    *,
    user: User,
    kind: str,
    lifetime: timedelta,
    ip_address: str | None = None,
    user_agent: str = "",
    session_key: str | None = None,
) -> SignIn:
    """Record a new sign-in of the user (a session or a token chain)."""
    return SignIn.objects.create(
        user=user,
        kind=kind,
        session_key=session_key,
        ip_address=ip_address,
        user_agent=user_agent[:512],
        expires_at=timezone.now() + lifetime,
    )


# What else ending a sign-in of each kind does, registered at start by the edge that issues
# that kind (api/apps.py registers token sign-ins), so that the core reaches the edge's
# credentials without importing the edge.
sign_in_enders: dict[str, Callable[..., None]] = {}


def register_sign_in_ender(kind: str, ender: Callable[..., None]) -> None:
    """Have sign_in_end() call ``ender(sign_in=...)``, in its transaction, for this kind."""
    sign_in_enders[kind] = ender


@transaction.atomic
def sign_in_end(*, sign_in: SignIn, reason: str) -> None:
    """
    End one sign-in now: delete its session from the session store, or have the edge that
    issued it make its credentials unusable (a token chain: see register_sign_in_ender),
    and mark it ended.
    """
    if sign_in.ended_at is not None:
        return
    if sign_in.kind == SignIn.Kind.SESSION and sign_in.session_key:
        _session_store_class()(session_key=sign_in.session_key).delete()
    ender = sign_in_enders.get(sign_in.kind)
    if ender is not None:
        ender(sign_in=sign_in)
    SignIn.objects.filter(pk=sign_in.pk).update(
        ended_at=timezone.now(), end_reason=reason, session_key=None
    )
    sign_in.ended_at = timezone.now()
    sign_in.end_reason = reason
    sign_in.session_key = None
    ended = _ended_sign_ins.get()
    if ended is not None:
        ended.add(str(sign_in.pk))


@contextmanager
def sign_in_end_tracking() -> Iterator[set[str]]:
    """Collect, as strings, the ids of the sign-ins ended by sign_in_end() inside the block."""
    ended: set[str] = set()
    token = _ended_sign_ins.set(ended)
    try:
        yield ended
    finally:
        _ended_sign_ins.reset(token)


def sign_in_touch(*, sign_in_id, seen_at) -> bool:
    """
    Record activity on a live sign-in; return False if it has ended (or never existed).

    One UPDATE does both jobs, so the periodic activity write is also a revocation check.
    """
    return bool(
        SignIn.objects.filter(pk=sign_in_id, ended_at__isnull=True).update(last_seen_at=seen_at)
    )


def sign_in_rekey(*, sign_in_id, session_key: str) -> bool:
    """
    Point a live session sign-in at the session's new key (after the key was cycled);
    return False if the sign-in has ended meanwhile.
    """
    return bool(
        SignIn.objects.filter(pk=sign_in_id, ended_at__isnull=True).update(session_key=session_key)
    )


def sign_in_end_by_id(*, sign_in_id, reason: str) -> None:
    """End the sign-in with this id, if it exists and is still live."""
    sign_in = SignIn.objects.filter(pk=sign_in_id, ended_at__isnull=True).first()
    if sign_in is not None:
        sign_in_end(sign_in=sign_in, reason=reason)


def sign_ins_prune(*, retention: timedelta) -> int:
    """
    Delete the sign-ins that ended, or expired without being ended, more than ``retention``
    ago; return how many. Live sign-ins are never touched.
    """
    cutoff = timezone.now() - retention
    deleted, _ = SignIn.objects.filter(
        Q(ended_at__lt=cutoff) | Q(ended_at__isnull=True, expires_at__lt=cutoff)
    ).delete()
    return deleted


@transaction.atomic
def sign_in_revoke(*, user: User, sign_in_id) -> SignIn:
    """
    End one of the user's own live sign-ins ("your devices" → revoke).

    Raise SignIn.DoesNotExist for an unknown id, an ended sign-in or another user's, so
    that nobody can probe or end sign-ins that are not theirs.
    """
    sign_in = SignIn.objects.select_for_update().get(
        pk=sign_in_id, user=user, ended_at__isnull=True
    )
    sign_in_end(sign_in=sign_in, reason=SignIn.EndReason.REVOKED)
    return sign_in


def user_sign_out_everywhere(*, user: User, reason: str, keep: SignIn | None = None) -> int:
    """End every live sign-in of the user except ``keep``; return how many were ended."""
    # By id: a data migration's historical User is not an instance of accounts.User.
    live = SignIn.objects.filter(user_id=user.pk, ended_at__isnull=True)
    if keep is not None:
        live = live.exclude(pk=keep.pk)
    ended = 0
    for sign_in in live:
        sign_in_end(sign_in=sign_in, reason=reason)
        ended += 1
    return ended


def users_sign_out_everywhere(*, users: Iterable[User], reason: str) -> int:
    """End every live sign-in of each of these users; return how many were ended."""
    return sum(user_sign_out_everywhere(user=user, reason=reason) for user in users)


def sign_ins_end(*, sign_ins: Iterable[SignIn], reason: str) -> int:
    """End those of these sign-ins that have not ended yet; return how many were ended."""
    ended = 0
    for sign_in in sign_ins:
        if sign_in.ended_at is None:
            sign_in_end(sign_in=sign_in, reason=reason)
            ended += 1
    return ended


def user_sign_ins_reconcile(*, user: User) -> int:
    """
    Mark ended, as expired, the user's sign-ins that are over but not marked so: past their
    lifetime, or sessions idle past the timeout or gone from the session store. Return how
    many.

    "Your devices" calls it before listing, on both edges, so that the index does not fill
    with ghosts and a session that vanished from the store (evicted, flushed) is ended like
    any other: its row can no longer be revoked or counted as live.
    """
    over = selectors.user_sign_ins_over(user=user)
    for sign_in in over:
        sign_in_end(sign_in=sign_in, reason=SignIn.EndReason.EXPIRED)
    return len(over)


# The fields whose change ends the user's sign-ins, and why. Sessions keep a snapshot of
# some of them (accounts/sessions.py) and tokens carry others as claims: after a change,
# nothing signed in before it may keep acting on the old value.
SIGN_IN_FIELDS = ("password", "is_active", "is_staff", "is_superuser", "email")


def user_changes_end_sign_ins(*, user: User, changed: set[str], keep: SignIn | None = None) -> int:
    """
    End the sign-ins of the user that a change of these fields invalidates (every one but
    ``keep``); return how many ended.

    Called for every save of a user that changes one of ``SIGN_IN_FIELDS``, whoever makes
    it (accounts/signals.py): this site's views, the admin, ``manage.py changepassword``, a
    shell, a data migration. Stock ``AuthenticationMiddleware`` notices a new password or a
    deactivation on the next request because it reloads the user every time; ending the
    sign-ins here gives the same answer to the session snapshot, the token denylist and the
    refresh-token chains, which do not reload the user.
    """
    changed = set(changed) & set(SIGN_IN_FIELDS)
    if not changed:
        return 0
    if "is_active" in changed and not user.is_active:
        reason = SignIn.EndReason.DEACTIVATED
    elif "password" in changed:
        reason = SignIn.EndReason.PASSWORD_CHANGED
    elif changed == {"is_active"}:
        return 0  # Reactivated: nothing signed in before is live to end.
    else:
        reason = SignIn.EndReason.ADMIN
    return user_sign_out_everywhere(user=user, reason=reason, keep=keep)


def _user_save(*, user: User, update_fields: list[str], keep: SignIn | None = None) -> None:
    # The sign-in the change is made from carries on (Django's update_session_auth_hash
    # moves its session to the new hash); the save's receiver ends every other one.
    user._sign_in_kept = keep
    try:
        user.save(update_fields=update_fields)
    finally:
        del user._sign_in_kept


@transaction.atomic
def user_password_change(*, user: User, new_password: str, keep: SignIn | None = None) -> None:
    """
    Set a new password and end every other sign-in of the user (sessions and token
    chains); ``keep`` is the sign-in the change was made from, which carries on.
    """
    password_validation.validate_password(new_password, user)
    user.set_password(new_password)
    _user_save(user=user, update_fields=["password"], keep=keep)


def user_password_reset_request(*, request, email: str) -> None:
    """
    Email a password-reset link, made with Django's default_token_generator, to the active
    account with this address, if there is one.

    The request first counts against its address's limit and raises TooManyRequests past
    it, whether or not the address has an account, so that neither the answer nor the limit
    reveals which addresses have one, and one address can have only so many emails sent.
    """
    address_attempt_record(request=request, action=PASSWORD_RESET)
    # Django's own reset form finds the accounts (active, with a usable password) and sends
    # the email; the link opens the storefront's PasswordResetConfirmView.
    form = PasswordResetForm({"email": User.objects.normalize_email_address(email)})
    if form.is_valid():
        form.save(
            request=request,
            use_https=request.is_secure(),
            token_generator=default_token_generator,
            email_template_name="accounts/password_reset_email.txt",
            subject_template_name="accounts/password_reset_subject.txt",
        )


@transaction.atomic
def user_password_reset_complete(*, user: User, new_password: str) -> None:
    """Set the password chosen through a reset link and end every sign-in of the user."""
    password_validation.validate_password(new_password, user)
    user.set_password(new_password)
    _user_save(user=user, update_fields=["password"])


def _password_reset_user(*, uidb64: str, token: str) -> User | None:
    # What Django's PasswordResetConfirmView.get_user() and its token check do.
    try:
        pk = User._meta.pk.to_python(urlsafe_base64_decode(uidb64).decode())
        user = User._default_manager.get(pk=pk)
    except (TypeError, ValueError, OverflowError, User.DoesNotExist, ValidationError):
        return None
    return user if default_token_generator.check_token(user, token) else None


def user_password_reset_confirm(*, uidb64: str, token: str, new_password: str) -> User:
    """
    Complete a reset from the ``uid`` and ``token`` of a reset link, as the storefront's
    reset page does: user_password_reset_complete(), which ends every sign-in of the user.

    Raise ValidationError on ``token`` (code ``invalid_reset_token``) for a link that is
    malformed, names no account, has expired or was already used, and on ``new_password``
    for a password the validators refuse (the link then still works).
    """
    user = _password_reset_user(uidb64=uidb64, token=token)
    if user is None:
        raise ValidationError(
            {"token": ValidationError(INVALID_RESET_LINK_MESSAGE, code="invalid_reset_token")}
        )
    try:
        user_password_reset_complete(user=user, new_password=new_password)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.error_list}) from exc
    return user


@transaction.atomic
def user_password_unset(*, user: User) -> None:
    """Disable password sign-in for the user (staff do this in the admin); end every sign-in."""
    user.set_unusable_password()
    _user_save(user=user, update_fields=["password"])


@transaction.atomic
def user_deactivate(*, user: User) -> None:
    """Deactivate the account and end every sign-in of it."""
    user.is_active = False
    _user_save(user=user, update_fields=["is_active"])


def user_sign_up(
    *, email: str, password: str, first_name: str = "", last_name: str = "", request=None
) -> User:
    """
    Create a customer account.

    With the ``request`` it comes from, the sign-up first counts against its address's
    limit and raises TooManyRequests past it; this runs outside any transaction, so that a
    refused sign-up still counts on the database store. Raise ValidationError keyed by
    field (``email``, ``password``) for an address already in use or a password the
    validators refuse; nothing is written then.
    """
    if request is not None:
        address_attempt_record(request=request, action=SIGNUP)
    email = User.objects.normalize_email_address(email)
    user = User(email=email, first_name=first_name.strip(), last_name=last_name.strip())
    errors = {}
    try:
        user.clean()  # An address that normalising breaks, or lengthens past the column.
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if User.objects.filter(email__iexact=email).exists():
        errors["email"] = ValidationError(
            "An account with this email address already exists.", code="email_taken"
        )
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        errors["password"] = exc.error_list
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        # Another sign-up with the same address committed between the check and the insert.
        raise ValidationError(
            {"email": "An account with this email address already exists."}, code="email_taken"
        ) from exc
    return user
