"""
Keeping the tables small: their sizes, for ``manage.py token_stats`` and the comparison
page; ``manage.py prune`` deletes what has expired.

The token tables are simplejwt's (``token_blacklist``), so this lives on the API side; the
session and sign-in tables are counted by accounts.selectors.
"""

from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import SignIn
from accounts.selectors import account_table_counts


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


def table_stats() -> list[dict]:
    """Return token_table_stats() for every table that grows with sign-ins, tokens included."""
    accounts = [
        {
            "table": row["model"]._meta.db_table,
            "rows": row["rows"],
            "expired": row["expired"],
            "bytes": _table_bytes(row["model"]._meta.db_table),
        }
        for row in account_table_counts()
    ]
    return accounts + [row for row in token_table_stats() if row["table"] != "accounts_signin"]


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
