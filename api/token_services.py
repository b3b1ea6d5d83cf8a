"""
Token sign-ins: sign in, refresh with rotation, verify, log out, change the password, and
what ending a token sign-in does to its tokens.

The SignIn is the authority over its chain of refresh tokens: once it has ended (logout,
revocation from either edge, password change, deactivation, theft) or passed its absolute
lifetime (``JWT_REFRESH_MAX_AGE_SECONDS``), no refresh token of the chain works, whatever
its own ``exp`` says. On top of simplejwt 5.5.1 this module adds:

- retries and reuse: a rotated refresh token presented again within
  ``JWT_REFRESH_REUSE_INTERVAL_SECONDS`` of its rotation is a retry (a lost response, two
  tabs refreshing at once) and gets the chain's current refresh token again, so the chain
  stays one; presented later it is reuse, which ends that sign-in (the thief and the victim
  hold the same chain and cannot be told apart) and no other (RFC 9700 §4.14.2);
- the end of a sign-in blacklists its outstanding refresh tokens (found by the ``jti``
  prefix, which is the sign-in id) and, with ``JWT_ACCESS_DENYLIST``, refuses its access
  tokens at once through a Redis entry keyed by the sign-in id. accounts.services ends
  sign-ins of every kind; api/apps.py registers token_sign_in_revoke() with it.

Passwords are checked by accounts.services.credentials_authenticate, the storefront's rule:
the same lockout, counted before the check.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import SignIn, User
from accounts.services import (
    credentials_authenticate,
    request_client_ip,
    sign_in_end,
    sign_in_end_by_id,
    sign_in_start,
    user_password_change,
)

from .token_checks import access_token_denied, access_token_user, denylist_key
from .tokens import (
    RESOURCE_CLAIM,
    SID_CLAIM,
    USER_ID_CLAIM,
    VIA_CLAIM,
    AccessToken,
    RefreshToken,
    RefreshTokenReused,
    SignInEnded,
    TokenPair,
    access_token_for,
    issued_under_current_password,
    refresh_token_current,
    resource_audience,
    token_pair_for,
)

WRONG_PASSWORD_MESSAGE = "Your current password is not correct."  # noqa: S105 - a message.
OTHER_RESOURCE_MESSAGE = "This sign-in was granted for another resource; sign in for this one."


def token_sign_in_start(
    *, user: User, request, resource: str | None = None, via: str | None = None
) -> TokenPair:
    """
    Start a token sign-in of the user and return its first access and refresh tokens; its
    access tokens are for the resource (None: this API), and its refresh tokens are held
    ``via`` a cookie (VIA_COOKIE) or, by default, by a bearer client.
    """
    with transaction.atomic():
        sign_in = sign_in_start(
            user=user,
            kind=SignIn.Kind.TOKEN,
            lifetime=timedelta(seconds=settings.JWT_REFRESH_MAX_AGE_SECONDS),
            ip_address=request_client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        return token_pair_for(user=user, sign_in=sign_in, resource=resource, via=via)


def token_access_issue(*, sign_in: SignIn) -> str:
    """
    Return a new access token of a live token sign-in, as a refresh would give, without
    rotating its refresh token or writing anything. Raise SignInEnded once it has ended.
    """
    current = SignIn.objects.select_related("user").filter(pk=sign_in.pk, kind=SignIn.Kind.TOKEN)
    sign_in = current.first()
    if sign_in is None or not _sign_in_live(sign_in):
        raise SignInEnded("This sign-in has ended")
    return str(access_token_for(user=sign_in.user, sign_in=sign_in))


def token_obtain(
    *, request, email: str, password: str, resource: str | None = None, via: str | None = None
) -> TokenPair:
    """
    Check the credentials (with the storefront's lockout) and start a token sign-in whose
    access tokens are for the resource (RFC 8707; None: this API).

    Raise a ValidationError with code ``invalid_target`` for a resource the settings do not
    name (before the password is checked or counted), LoginLocked while locked out, and one
    generic ValidationError for an unknown email, a wrong password and an inactive account
    alike.
    """
    resource_audience(resource)
    user = credentials_authenticate(request=request, email=email, password=password)
    return token_sign_in_start(user=user, request=request, resource=resource, via=via)


@dataclass
class _ChainLink:
    sign_in: SignIn
    outstanding: OutstandingToken
    rotated: bool


def _chain_link(refresh: RefreshToken) -> _ChainLink:
    """
    Lock and return the sign-in and the outstanding row of a verified refresh token; raise
    TokenError for a token we never issued. Call inside a transaction.
    """
    # Lock the sign-in before the token row, the order sign_in_end() takes them in too.
    sign_in = (
        SignIn.objects.select_for_update()
        .select_related("user")
        .filter(pk=refresh[SID_CLAIM], kind=SignIn.Kind.TOKEN, user_id=refresh[USER_ID_CLAIM])
        .first()
    )
    outstanding = (
        OutstandingToken.objects.select_for_update(of=("self",))
        .select_related("blacklistedtoken")
        .filter(jti=refresh["jti"])
        .first()
    )
    if sign_in is None or outstanding is None or outstanding.user_id != sign_in.user_id:
        raise TokenError("Token is invalid")
    rotated = hasattr(outstanding, "blacklistedtoken")
    return _ChainLink(sign_in=sign_in, outstanding=outstanding, rotated=rotated)


def _retried(link: _ChainLink) -> bool:
    """
    Return whether a rotated refresh token came back within the reuse interval of its
    rotation: a retry of the same client, not reuse. (A live sign-in's token is blacklisted
    only by its rotation; ending the sign-in blacklists the rest.)
    """
    interval = settings.JWT_REFRESH_REUSE_INTERVAL_SECONDS
    if not link.rotated or interval <= 0:
        return False
    rotated_at = link.outstanding.blacklistedtoken.blacklisted_at
    return timezone.now() - rotated_at < timedelta(seconds=interval)


def _sign_in_live(sign_in: SignIn) -> bool:
    return sign_in.is_live and sign_in.user.is_active


def _chain_resource(refresh: RefreshToken, *, requested: str | None) -> str | None:
    """
    Return the resource the refresh token's sign-in was granted for. Raise a ValidationError
    with code ``invalid_target`` when the settings no longer name it, or when ``requested``
    names another audience: a refresh never widens what the sign-in was granted (RFC 8707
    §2.2).
    """
    granted = refresh.get(RESOURCE_CLAIM)
    audience = resource_audience(granted)
    if requested is not None and resource_audience(requested) != audience:
        raise ValidationError(
            {"resource": ValidationError(OTHER_RESOURCE_MESSAGE, code="invalid_target")}
        )
    return granted


def token_refresh(*, raw: str, resource: str | None = None, via: str | None = None) -> TokenPair:
    """
    Rotate a refresh token: blacklist it and return a new pair in the same sign-in, for the
    resource the sign-in was granted for (``resource``, if given, must name its audience).
    A token rotated within the reuse interval gets a new access token and the chain's
    current refresh token (the one its rotation answered, unless that was rotated too), and
    nothing is written: every answer leaves the sign-in one live refresh token.

    Only a token held the way ``via`` says is taken: a bearer client's refresh token is
    foreign at the cookie endpoint and a cookie's at the bearer one (a TokenError, and
    nothing is ended or used up).

    Raise TokenError when the token is invalid or its sign-in has ended, a ValidationError
    with code ``invalid_target`` for another resource (nothing is used up then), and
    RefreshTokenReused, after ending its sign-in, when the token was rotated longer ago.
    """
    refresh = RefreshToken(raw)
    if refresh.get(VIA_CLAIM) != via:
        raise TokenError("This refresh token is for another kind of client")
    granted = _chain_resource(refresh, requested=resource)
    with transaction.atomic():
        link = _chain_link(refresh)
        sign_in = link.sign_in
        if not _sign_in_live(sign_in):
            raise SignInEnded("This sign-in has ended; sign in again")
        password_changed = not issued_under_current_password(refresh, sign_in.user)
        if not password_changed and not link.rotated:
            BlacklistedToken.objects.create(token=link.outstanding)
            SignIn.objects.filter(pk=sign_in.pk).update(last_seen_at=timezone.now())
            return token_pair_for(user=sign_in.user, sign_in=sign_in, resource=granted, via=via)
        if not password_changed and _retried(link):
            current = refresh_token_current(sign_in=sign_in)
            if current is None:
                raise SignInEnded("This sign-in has no usable refresh token; sign in again")
            access = access_token_for(user=sign_in.user, sign_in=sign_in, resource=granted)
            return TokenPair(access=str(access), refresh=current)
    if password_changed:
        # Changed where no save() signal saw it (QuerySet.update(), raw SQL): the chain
        # ends here, after the transaction, so that the ending is not rolled back.
        sign_in_end_by_id(sign_in_id=sign_in.pk, reason=SignIn.EndReason.PASSWORD_CHANGED)
        raise SignInEnded("The password has changed since this sign-in; sign in again")
    raise _token_reuse_end(sign_in=sign_in)


def _token_reuse_end(*, sign_in: SignIn) -> RefreshTokenReused:
    """End the sign-in whose rotated refresh token was reused; return the error to raise."""
    # Called after the refresh transaction has closed: raising inside it would roll back
    # the very sign-out that answers the theft. The user's other sign-ins carry on: the
    # reused token says nothing about them.
    sign_in_end_by_id(sign_in_id=sign_in.pk, reason=SignIn.EndReason.TOKEN_REUSE)
    return RefreshTokenReused("Refresh token was already used; this sign-in has ended")


def token_logout(*, raw: str) -> None:
    """
    End the sign-in of a refresh token. Logging out of an ended sign-in is not an error; a
    token rotated within the reuse interval signs out too (a client that lost the refresh
    answer); one rotated longer ago is reuse, as in token_refresh().
    """
    refresh = RefreshToken(raw)
    with transaction.atomic():
        link = _chain_link(refresh)
        if link.sign_in.ended_at is not None:
            return
        if not link.rotated or _retried(link):
            sign_in_end(sign_in=link.sign_in, reason=SignIn.EndReason.SIGNED_OUT)
            return
    raise _token_reuse_end(sign_in=link.sign_in)


ACCESS_TOKEN_HINT = "access_token"  # noqa: S105 - an RFC 7009 hint value.


def token_revoke(*, raw: str, hint: str = "") -> None:
    """
    Revoke a token as RFC 7009 asks. A refresh token ends its sign-in, as token_logout()
    does. An access token ends its sign-in only with JWT_ACCESS_DENYLIST, whose entry for
    the sign-in is the one way to refuse an access token before its ``exp``; without it,
    nothing changes. A token that is malformed, expired, forged, unknown or already revoked
    changes nothing either, and is no error (§2.2): the caller learns nothing from the
    answer. ``hint`` ("access_token") only decides which kind is tried first (§2.1).
    """
    kinds = [RefreshToken, AccessToken]
    if hint == ACCESS_TOKEN_HINT:
        kinds.reverse()
    for kind in kinds:
        try:
            token = kind(raw)
        except TokenError:
            continue
        try:
            if kind is RefreshToken:
                token_logout(raw=raw)
            elif settings.JWT_ACCESS_DENYLIST:
                _access_token_sign_in_end(token)
        except TokenError:
            pass  # A chain we never issued, or a reused token whose sign-in just ended.
        return


def _access_token_sign_in_end(access: AccessToken) -> None:
    sign_in = SignIn.objects.filter(
        pk=access[SID_CLAIM], user_id=access[USER_ID_CLAIM], kind=SignIn.Kind.TOKEN
    ).first()
    if sign_in is not None:
        sign_in_end(sign_in=sign_in, reason=SignIn.EndReason.SIGNED_OUT)


def token_verify(*, raw: str) -> None:
    """
    Raise TokenError unless the token would be accepted now: an access token by the API's
    authentication, a refresh token by token_refresh(). Never ends anything.
    """
    try:
        access = AccessToken(raw)
    except TokenError:
        refresh = RefreshToken(raw)
        with transaction.atomic():
            link = _chain_link(refresh)
        if (
            (link.rotated and not _retried(link))
            or not _sign_in_live(link.sign_in)
            or not issued_under_current_password(refresh, link.sign_in.user)
        ):
            raise SignInEnded("This refresh token can no longer be used") from None
        return
    if settings.JWT_ACCESS_DENYLIST and access_token_denied(access):
        raise SignInEnded("This sign-in has ended")
    if settings.JWT_USER_LOOKUP == "db":
        access_token_user(access)


def user_token_sign_ins_end(*, user: User, reason: str) -> int:
    """End every live token sign-in of the user (browser sessions carry on)."""
    live = SignIn.objects.filter(user=user, kind=SignIn.Kind.TOKEN, ended_at__isnull=True)
    ended = 0
    for sign_in in live:
        sign_in_end(sign_in=sign_in, reason=reason)
        ended += 1
    return ended


def token_sign_in_revoke(*, sign_in: SignIn) -> None:
    """
    Make a token sign-in's chain unusable: blacklist its outstanding refresh tokens and,
    with JWT_ACCESS_DENYLIST, refuse its access tokens until the last one would expire.
    accounts.services.sign_in_end() calls it for token sign-ins (registered in api/apps.py).
    """
    # Lock the sign-in's row before its tokens' rows, in the order _chain_link() takes them,
    # so that a refresh racing this sign-out waits instead of deadlocking.
    SignIn.objects.select_for_update().filter(pk=sign_in.pk).first()
    unused = OutstandingToken.objects.filter(
        user_id=sign_in.user_id,
        jti__startswith=sign_in.pk.hex,
        blacklistedtoken__isnull=True,
    )
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in unused], ignore_conflicts=True
    )
    if settings.JWT_ACCESS_DENYLIST:
        jwt_settings = settings.SIMPLE_JWT
        ttl = jwt_settings["ACCESS_TOKEN_LIFETIME"].total_seconds() + jwt_settings["LEEWAY"]
        key = denylist_key(sign_in.pk)
        # After the commit only: a rolled-back sign-out must not lock a live sign-in out.
        transaction.on_commit(lambda: cache.set(key, 1, timeout=int(ttl) + 1))


def token_password_change(
    *, request, user: User, sid: str, old_password: str, new_password: str
) -> TokenPair:
    """
    Change the password from a token sign-in: check the old one as the storefront's form
    does, end every other sign-in of the user, and return a new token pair for this one,
    as Django's update_session_auth_hash() keeps the session the change was made from.
    Every earlier token, this sign-in's too, carries the old password's digest and stops
    working.

    Raise LoginLocked while the account or the address is locked out (the old password is
    then not checked), and a ValidationError on ``old_password`` for a wrong one, which
    counts against the lockout as a failed sign-in does.
    """
    keep = SignIn.objects.filter(
        pk=sid, user=user, kind=SignIn.Kind.TOKEN, ended_at__isnull=True
    ).first()
    if keep is None:
        raise SignInEnded("This sign-in has ended")
    try:
        credentials_authenticate(request=request, email=user.email, password=old_password)
    except ValidationError as exc:
        raise ValidationError(
            {"old_password": ValidationError(WRONG_PASSWORD_MESSAGE, code="invalid_password")}
        ) from exc
    try:
        user_password_change(user=user, new_password=new_password, keep=keep)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.error_list}) from exc
    return token_pair_for(user=user, sign_in=keep)
