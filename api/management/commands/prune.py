"""
Delete what has expired, for cron: one command for every table that grows with sign-ins.

    15 * * * *  cd /srv/shop && .venv/bin/python manage.py prune

It lives in the API app because it is the app that knows both halves: Django's sessions and
the sign-in index (accounts) and simplejwt's token tables.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts import lockout, services
from api.housekeeping import table_stats


class Command(BaseCommand):
    help = (
        "Delete expired sessions (clearsessions), sign-ins ended or expired more than "
        "SIGNIN_RETENTION_DAYS ago, expired refresh tokens with their blacklist rows "
        "(flushexpiredtokens) and spent lockout counters. Live sign-ins are untouched."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--retention-days",
            type=int,
            default=None,
            help="Keep ended sign-ins this many days (default: SIGNIN_RETENTION_DAYS).",
        )

    def handle(self, *args, retention_days=None, **options):
        if retention_days is None:
            retention_days = settings.SIGNIN_RETENTION_DAYS
        if retention_days < 0:
            self.stderr.write("--retention-days must be 0 or more.")
            raise SystemExit(2)
        before = {row["table"]: row["rows"] for row in table_stats()}
        # Django's and simplejwt's own commands for their tables; cache-backed sessions and
        # Redis counters expire by themselves.
        call_command("clearsessions")
        call_command("flushexpiredtokens", stdout=self.stdout)
        services.sign_ins_prune(retention=timedelta(days=retention_days))
        lockout.counters_prune()
        self.stdout.write(f"{'table':<40} {'before':>10} {'after':>10}")
        for row in table_stats():
            self.stdout.write(f"{row['table']:<40} {before[row['table']]:>10} {row['rows']:>10}")
