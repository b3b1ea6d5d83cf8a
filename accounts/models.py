import uuid

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower

from .managers import UserManager

# Set on a user while Django saves an upgraded hash of the same password.
PASSWORD_HASH_UPGRADE = "_password_hash_upgrade"  # noqa: S105 - an attribute name.


class User(AbstractUser):
    """A customer or staff member, signed in by email address."""

    username = None
    email = models.EmailField("email address", unique=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        ordering = ["email"]
        constraints = [
            # The manager stores emails lower-cased; this keeps rows written any other way
            # (raw SQL, a careless migration) from creating a case-variant twin.
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self):
        return self.email

    def check_password(self, raw_password):
        """
        Django's check, marking the save of an upgraded hash (new hasher parameters, same
        password) so that accounts/signals.py does not take it for a password change.
        """

        def setter(raw_password):
            self.set_password(raw_password)
            # As in AbstractBaseUser: a hash upgrade is not a password change.
            self._password = None
            self.__dict__[PASSWORD_HASH_UPGRADE] = True
            try:
                self.save(update_fields=["password"])
            finally:
                self.__dict__.pop(PASSWORD_HASH_UPGRADE, None)

        return check_password(raw_password, self.password, setter)

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email_address(self.email)
        # Normalising can break a valid address (U+FE6B becomes a second "@") or lengthen
        # it past the column (U+FDFA is 18 letters): check the address that is stored.
        try:
            self._meta.get_field("email").run_validators(self.email)
        except ValidationError as exc:
            raise ValidationError({"email": exc.error_list}) from exc


class SignIn(models.Model):
    """
    One sign-in of a user: a storefront session or an API refresh-token chain.

    This is the per-user index that neither session store nor simplejwt provides: the
    session stores are keyed by session key only, and outstanding tokens do not know
    which sign-in they belong to. "Your devices" lists these rows; revoking one ends the
    session or the token chain behind it.
    """

    class Kind(models.TextChoices):
        SESSION = "session", "Browser session"
        TOKEN = "token", "API token"

    class EndReason(models.TextChoices):
        SIGNED_OUT = "signed_out", "Signed out"
        REVOKED = "revoked", "Revoked by the user"
        SIGNED_OUT_EVERYWHERE = "signed_out_everywhere", "Signed out everywhere"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        DEACTIVATED = "deactivated", "Account deactivated"
        EXPIRED = "expired", "Expired"
        TOKEN_REUSE = "token_reuse", "Refresh token reused (possible theft)"
        ADMIN = "admin", "Ended by staff"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sign_ins"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    session_key = models.CharField(max_length=40, null=True, blank=True, unique=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, choices=EndReason.choices, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["user", "ended_at"], name="signin_user_live_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.user_id} since {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        from django.utils import timezone

        return self.ended_at is None and self.expires_at > timezone.now()


class AttemptCounter(models.Model):
    """
    Attempts counted against one key (an account, or an address for one action) within a
    window: the lockout's store when the counters do not live in Redis. Every worker process
    shares it because it is the database; accounts.lockout owns the rows.
    """

    key = models.CharField(max_length=128, primary_key=True)
    count = models.PositiveIntegerField()
    resets_at = models.FloatField(help_text="Unix time at which the count starts again at zero.")

    def __str__(self):
        return f"{self.key}: {self.count}"
