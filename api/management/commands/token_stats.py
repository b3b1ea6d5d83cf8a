from django.core.management.base import BaseCommand

from api.housekeeping import token_table_stats


class Command(BaseCommand):
    help = (
        "Report the size of the token tables: rows, expired rows (what flushexpiredtokens "
        "would prune) and bytes on disk where the database can tell."
    )

    def handle(self, *args, **options):
        rows = token_table_stats()
        self.stdout.write(f"{'table':<40} {'rows':>10} {'expired':>10} {'bytes':>12}")
        for row in rows:
            size = "n/a" if row["bytes"] is None else str(row["bytes"])
            self.stdout.write(
                f"{row['table']:<40} {row['rows']:>10} {row['expired']:>10} {size:>12}"
            )
