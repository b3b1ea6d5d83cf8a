"""Read-only queries about users and their sign-ins."""

from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.utils import timezone

from .models import SignIn, User


def user_get(*, pk) -> User:
    """Return the user with this id, every field loaded; raise User.DoesNotExist otherwise."""
    return User._default_manager.get(pk=pk)


def user_sign_in_get(*, user: User, sign_in_id) -> SignIn | None:
    """Return the user's sign-in with this id, ended or not, or None (also for no id)."""
    if not sign_in_id:
        return None
    return SignIn.objects.filter(pk=sign_in_id, user=user).first()


def _sign_ins_split(*, user: User) -> tuple[list[SignIn], list[SignIn]]:
    # The user's sign-ins not marked ended, split into (live, over), most recently seen first.
    store = import_module(settings.SESSION_ENGINE).SessionStore
    signed_cookies = settings.SESSION_ENGINE.endswith("signed_cookies")
    now = timezone.now()
    # last_seen_at is written at most once per throttle period, so allow for that lag.
    idle_cutoff = now - timedelta(
        seconds=settings.SESSION_IDLE_TIMEOUT_SECONDS + settings.SESSION_ACTIVITY_THROTTLE_SECONDS
    )
    live, over = [], []
    for sign_in in SignIn.objects.filter(user=user, ended_at__isnull=True):
        is_session = sign_in.kind == SignIn.Kind.SESSION
        gone = (
            sign_in.expires_at <= now
            or (is_session and sign_in.last_seen_at < idle_cutoff)
            or (
                is_session
                and not signed_cookies
                and not (sign_in.session_key and store().exists(sign_in.session_key))
            )
        )
        (over if gone else live).append(sign_in)
    return live, over


def user_sign_ins_live(*, user: User) -> list[SignIn]:
    """
    Return the user's live sign-ins, most recently seen first.

    A sign-in not yet marked ended is not live once its lifetime has passed or, for a
    session, once it has been idle past the idle timeout or its session has vanished from
    the store (expired, flushed, evicted). Marking those ended is
    accounts.services.user_sign_ins_reconcile's job; this only reads.
    """
    return _sign_ins_split(user=user)[0]


def user_sign_ins_over(*, user: User) -> list[SignIn]:
    """Return the user's sign-ins that are over (see user_sign_ins_live) but not marked ended."""
    return _sign_ins_split(user=user)[1]


@dataclass(frozen=True)
class Device:
    """A live sign-in as "your devices" shows it: the row plus what its user agent says."""

    sign_in: SignIn
    browser: str
    os: str
    device: str


def _describe(part) -> str:
    family = part.family or "Unknown"
    return f"{family} {part.version_string}".strip() if part.version_string else family


def user_devices(*, user: User) -> list[Device]:
    """Return the user's live sign-ins (sessions and API tokens) with browser and OS named."""
    # Imported here: loading its browser database takes about 0.3 s, which every worker,
    # test run and management command would otherwise pay at start-up for one page.
    from user_agents import parse as parse_user_agent

    devices = []
    for sign_in in user_sign_ins_live(user=user):
        agent = parse_user_agent(sign_in.user_agent or "")
        if agent.is_mobile:
            kind = "Phone"
        elif agent.is_tablet:
            kind = "Tablet"
        elif agent.is_pc:
            kind = "Computer"
        elif agent.is_bot:
            kind = "Bot"
        else:
            kind = "Other"
        devices.append(
            Device(
                sign_in=sign_in,
                browser=_describe(agent.browser) if sign_in.user_agent else "Unknown",
                os=_describe(agent.os) if sign_in.user_agent else "Unknown",
                device=kind,
            )
        )
    return devices


def account_table_counts() -> list[dict]:
    """
    Return, for the session and sign-in tables, how many rows they hold and how many of
    them ``manage.py prune`` may delete (expired, or ended).
    """
    from django.contrib.sessions.models import Session

    from .models import AttemptCounter

    now = timezone.now()
    sign_ins = SignIn.objects.all()
    return [
        {
            # The database session engine's table; with sessions in a cache it stays empty.
            "model": Session,
            "rows": Session.objects.count(),
            "expired": Session.objects.filter(expire_date__lt=now).count(),
        },
        {
            "model": SignIn,
            "rows": sign_ins.count(),
            "expired": sign_ins.exclude(ended_at__isnull=True, expires_at__gt=now).count(),
        },
        {
            "model": AttemptCounter,
            "rows": AttemptCounter.objects.count(),
            "expired": AttemptCounter.objects.filter(resets_at__lte=now.timestamp()).count(),
        },
    ]
