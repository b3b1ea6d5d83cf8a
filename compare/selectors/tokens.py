"""
Read what the token model leaves where: a token as any holder can decode it, the site's
token policy, and what the server keeps for a user's tokens (rows, denylist entries).
"""

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Sum
from django.db.models.functions import Length
from django.urls import reverse
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import SignIn, User
from api.housekeeping import token_table_stats
from api.keys import ASYMMETRIC_ALGORITHMS
from api.token_checks import sign_ins_denied

from .formatting import duration_text, preview


def _b64_json(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


@dataclass(frozen=True)
class DecodedToken:
    """A JWT as any holder can read it: header and claims are base64url, not encrypted."""

    kind: str
    header: dict
    claims: dict
    encoded_length: int | None
    signature_preview: str | None
    expires_at: datetime
    issued_at: datetime

    @property
    def expires_in_seconds(self) -> int:
        return max(0, int((self.expires_at - timezone.now()).total_seconds()))

    @property
    def expires_in_text(self) -> str:
        return duration_text(self.expires_in_seconds)

    @property
    def lifetime_text(self) -> str:
        return duration_text((self.expires_at - self.issued_at).total_seconds())

    @property
    def header_json(self) -> str:
        return json.dumps(self.header, indent=2)

    @property
    def claims_json(self) -> str:
        return json.dumps(self.claims, indent=2)


def token_decode(raw: str, *, kind: str) -> DecodedToken:
    """
    Decode a token's header and claims without checking it, as a client can: the first two
    segments are base64url JSON. A third segment (the signature) is previewed, not returned.
    """
    segments = raw.split(".")
    claims = _b64_json(segments[1])
    signature = segments[2] if len(segments) > 2 else None
    return DecodedToken(
        kind=kind,
        header=_b64_json(segments[0]),
        claims=claims,
        encoded_length=len(raw) if signature is not None else None,
        signature_preview=preview(signature) if signature else None,
        expires_at=datetime.fromtimestamp(claims["exp"], tz=UTC),
        issued_at=datetime.fromtimestamp(claims["iat"], tz=UTC),
    )


@dataclass(frozen=True)
class JwtPolicy:
    """How this site signs and checks tokens (from the settings)."""

    algorithm: str
    asymmetric: bool
    jwks_url: str | None
    access_lifetime_seconds: int
    refresh_lifetime_seconds: int
    refresh_max_age_seconds: int
    refresh_reuse_interval_seconds: int
    user_lookup: str
    denylist: bool
    leeway_seconds: int
    issuer: str
    audience: str

    @property
    def access_lifetime_text(self) -> str:
        return duration_text(self.access_lifetime_seconds)

    @property
    def refresh_lifetime_text(self) -> str:
        return duration_text(self.refresh_lifetime_seconds)

    @property
    def refresh_max_age_text(self) -> str:
        return duration_text(self.refresh_max_age_seconds)

    @property
    def refresh_reuse_text(self) -> str:
        """What a refresh token sent again after its use gets (see api.token_services)."""
        if not self.refresh_reuse_interval_seconds:
            return "sent again, it ends this sign-in and no other"
        interval = duration_text(self.refresh_reuse_interval_seconds)
        return (
            f"sent again within {interval} of that use (a lost answer, two tabs) gets the "
            "same new one; later, it ends this sign-in and no other"
        )


def jwt_policy() -> JwtPolicy:
    """Return the site's token policy."""
    jwt_settings = settings.SIMPLE_JWT
    algorithm = jwt_settings["ALGORITHM"]
    asymmetric = algorithm in ASYMMETRIC_ALGORITHMS
    return JwtPolicy(
        algorithm=algorithm,
        asymmetric=asymmetric,
        jwks_url=reverse("jwks") if asymmetric else None,
        access_lifetime_seconds=int(jwt_settings["ACCESS_TOKEN_LIFETIME"].total_seconds()),
        refresh_lifetime_seconds=int(jwt_settings["REFRESH_TOKEN_LIFETIME"].total_seconds()),
        refresh_max_age_seconds=settings.JWT_REFRESH_MAX_AGE_SECONDS,
        refresh_reuse_interval_seconds=settings.JWT_REFRESH_REUSE_INTERVAL_SECONDS,
        user_lookup=settings.JWT_USER_LOOKUP,
        denylist=settings.JWT_ACCESS_DENYLIST,
        leeway_seconds=jwt_settings["LEEWAY"],
        issuer=jwt_settings["ISSUER"],
        audience=jwt_settings["AUDIENCE"],
    )


def refresh_token_on_record(*, sign_in: SignIn) -> DecodedToken | None:
    """
    Return the newest unrotated refresh token of a token sign-in as the server recorded it:
    header and claims only, because the OutstandingToken row keeps no signature.
    """
    row = (
        OutstandingToken.objects.filter(
            user_id=sign_in.user_id,
            jti__startswith=sign_in.pk.hex,
            blacklistedtoken__isnull=True,
        )
        .order_by("-created_at")
        .first()
    )
    return token_decode(row.token, kind="refresh") if row else None


@dataclass(frozen=True)
class DenylistEntry:
    sign_in_id: str
    expires_in_seconds: int

    @property
    def expires_in_text(self) -> str:
        return duration_text(self.expires_in_seconds)


@dataclass(frozen=True)
class TokenStorage:
    """What the server keeps for a user's tokens, and the size of the token tables."""

    outstanding_rows: int
    usable_rows: int
    outstanding_bytes: int
    live_token_sign_ins: int
    tables: list[dict]
    denylist_on: bool
    denylist_entries: list[DenylistEntry]


def token_storage(*, user: User) -> TokenStorage:
    """
    Return the user's refresh-token rows, the token tables' sizes (the same figures as
    ``manage.py token_stats``) and, with the denylist on, the user's entries in it.
    """
    now = timezone.now()
    rows = OutstandingToken.objects.filter(user=user)
    entries = []
    if settings.JWT_ACCESS_DENYLIST:
        jwt_settings = settings.SIMPLE_JWT
        window = jwt_settings["ACCESS_TOKEN_LIFETIME"] + timedelta(
            seconds=jwt_settings["LEEWAY"] + 1
        )
        recently_ended = dict(
            SignIn.objects.filter(
                user=user, kind=SignIn.Kind.TOKEN, ended_at__gte=now - window
            ).values_list("pk", "ended_at")
        )
        denied = sign_ins_denied(sign_in_ids=recently_ended)
        entries = [
            DenylistEntry(
                sign_in_id=str(pk),
                expires_in_seconds=max(0, int((ended + window - now).total_seconds())),
            )
            for pk, ended in recently_ended.items()
            if str(pk) in denied
        ]
    return TokenStorage(
        outstanding_rows=rows.count(),
        usable_rows=rows.filter(blacklistedtoken__isnull=True, expires_at__gt=now).count(),
        outstanding_bytes=rows.aggregate(total=Sum(Length("token")))["total"] or 0,
        live_token_sign_ins=SignIn.objects.filter(
            user=user, kind=SignIn.Kind.TOKEN, ended_at__isnull=True, expires_at__gt=now
        ).count(),
        tables=token_table_stats(),
        denylist_on=settings.JWT_ACCESS_DENYLIST,
        denylist_entries=entries,
    )
