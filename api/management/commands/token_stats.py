from django.core.management.base import BaseCommand

from api.housekeeping import table_stats


class Command(BaseCommand):
    help = (
        "Report the size of every table that grows with sign-ins: sessions, sign-ins, lockout "
        "counters and tokens: rows, expired or ended rows (what `manage.py prune` deletes, "
        "sign-ins once past SIGNIN_RETENTION_DAYS) and "
        "bytes on disk where the database can tell."
    )

    def handle(self, *args, **options):
        rows = table_stats()
        self.stdout.write(f"{'table':<40} {'rows':>10} {'expired':>10} {'bytes':>12}")
        for row in rows:
            size = "n/a" if row["bytes"] is None else str(row["bytes"])
            self.stdout.write(
                f"{row['table']:<40} {row['rows']:>10} {row['expired']:>10} {size:>12}"
            )
