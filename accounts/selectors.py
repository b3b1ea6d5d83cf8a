"""Read-only queries about users and their sign-ins."""

from importlib import import_module

from django.conf import settings
from django.utils import timezone

from .models import SignIn, User


def user_signins_live(*, user: User) -> list[SignIn]:
    """
    Return the user's live sign-ins, most recently seen first.

    Sign-ins whose session has vanished from the store (expired, flushed, evicted) or whose
    lifetime has passed are marked ended on the way, so the index does not fill with ghosts.
    """
    from .services import signin_end

    store = import_module(settings.SESSION_ENGINE).SessionStore
    signed_cookies = settings.SESSION_ENGINE.endswith("signed_cookies")
    now = timezone.now()
    live = []
    for sign_in in SignIn.objects.filter(user=user, ended_at__isnull=True):
        gone = sign_in.expires_at <= now or (
            sign_in.kind == SignIn.Kind.SESSION
            and not signed_cookies
            and not (sign_in.session_key and store().exists(sign_in.session_key))
        )
        if gone:
            signin_end(sign_in=sign_in, reason=SignIn.EndReason.EXPIRED)
        else:
            live.append(sign_in)
    return live
