"""Keeping the token tables small: the prune job and the size report."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from tests.support.api import claims_of, obtain

pytestmark = pytest.mark.django_db


def test_flushexpiredtokens_prunes_expired_rows_and_their_blacklist_entries(api, user, password):
    first = obtain(api, user.email, password).json()["refresh"]
    second = api.post("/api/auth/token/refresh/", {"refresh": first}, format="json").json()
    OutstandingToken.objects.filter(jti=claims_of(first)["jti"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    call_command("flushexpiredtokens")
    remaining = OutstandingToken.objects.values_list("jti", flat=True)
    assert list(remaining) == [claims_of(second["refresh"])["jti"]]
    assert not BlacklistedToken.objects.exists()


def test_token_stats_reports_rows_expired_rows_and_bytes(api, user, password):
    pair = obtain(api, user.email, password).json()
    api.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    OutstandingToken.objects.filter(blacklistedtoken__isnull=False).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    out = StringIO()
    call_command("token_stats", stdout=out)
    lines = {line.split()[0]: line.split()[1:] for line in out.getvalue().splitlines()[1:]}
    assert lines["token_blacklist_outstandingtoken"][:2] == ["2", "1"]
    assert lines["token_blacklist_blacklistedtoken"][:2] == ["1", "1"]
    assert lines["accounts_signin"][:2] == ["1", "0"]
    size = lines["token_blacklist_outstandingtoken"][2]
    assert size == "n/a" or int(size) > 0
