"""
Keeping the token tables small: their sizes, for ``manage.py token_stats`` and the
comparison page.

Token-specific (simplejwt's ``token_blacklist`` tables), so it lives on the API side.
"""

from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import SignIn


def token_table_stats() -> list[dict]:
    """
    Return, for each token table, its row counts and its size on disk in bytes (None where
    the database cannot tell).
    """
    now = timezone.now()
    tables = [
        (
            OutstandingToken,
            {
                "rows": OutstandingToken.objects.count(),
                "expired": OutstandingToken.objects.filter(expires_at__lte=now).count(),
            },
        ),
        (
            BlacklistedToken,
            {
                "rows": BlacklistedToken.objects.count(),
                "expired": BlacklistedToken.objects.filter(token__expires_at__lte=now).count(),
            },
        ),
        (
            SignIn,
            {
                "rows": SignIn.objects.filter(kind=SignIn.Kind.TOKEN).count(),
                "expired": SignIn.objects.filter(kind=SignIn.Kind.TOKEN)
                .filter(Q(ended_at__isnull=False) | Q(expires_at__lte=now))
                .count(),
            },
        ),
    ]
    return [
        {"table": model._meta.db_table, **counts, "bytes": _table_bytes(model._meta.db_table)}
        for model, counts in tables
    ]


def _table_bytes(table: str) -> int | None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            return cursor.fetchone()[0]
        if connection.vendor == "sqlite":
            try:
                cursor.execute("SELECT SUM(pgsize) FROM dbstat WHERE name = %s", [table])
            except DatabaseError:  # A SQLite built without the dbstat table cannot tell.
                return None
            return cursor.fetchone()[0]
    return None
