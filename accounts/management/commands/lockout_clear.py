from django.core.management.base import BaseCommand, CommandError

from accounts import lockout


class Command(BaseCommand):
    help = (
        "Clear lockouts: one account's (--email), one address's (--ip, every action), or every "
        "counter; --expired only deletes the database's ended counters (for cron)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", help="Unlock the account with this email address.")
        parser.add_argument("--ip", help="Unlock this client address (sign-in, sign-up, reset).")
        parser.add_argument(
            "--expired", action="store_true", help="Only delete counters whose window ended."
        )

    def handle(self, *args, email=None, ip=None, expired=False, **options):
        if expired:
            self.stdout.write(f"Deleted {lockout.counters_prune()} ended counters.")
            return
        keys = []
        if email:
            keys.append(lockout.account_key(email))
        if ip:
            keys += [
                lockout.address_key(ip, action=action)
                for action in ("login", lockout.SIGNUP, lockout.PASSWORD_RESET)
            ]
        try:
            lockout.counters_clear(keys=keys or None)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            "Cleared " + (", ".join(filter(None, [email, ip])) or "every lockout") + "."
        )
