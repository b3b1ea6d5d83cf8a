"""System checks for the accounts app (run by ``manage.py check --deploy``)."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from . import lockout


@register(Tags.security, deploy=True)
def lockout_store_check(app_configs, **kwargs) -> list[Error]:
    """Refuse a lockout whose counters each worker process would keep on its own."""
    problem = lockout.store_problem(
        store=settings.LOGIN_LOCKOUT_STORE,
        database=settings.DATABASES["default"],
        cache_backend=settings.CACHES["default"]["BACKEND"],
    )
    if problem is None:
        return []
    return [
        Error(
            f"The sign-in lockout would not hold across worker processes: {problem}.",
            hint="Set LOGIN_LOCKOUT_STORE=database, or REDIS_URL with LOGIN_LOCKOUT_STORE=cache.",
            id="accounts.E001",
        )
    ]
