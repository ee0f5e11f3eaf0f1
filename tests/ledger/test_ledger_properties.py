"""Property test (perf-reliability §3.4/§3.8 R2): random sequences of top-ups, freezes, releases and settlements
against an in-memory model; after every step the balances match the model and the invariants hold."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.testing.factories import MerchantFactory
from core.testing.ledger import assert_ledger_ok
from ledger import selectors, services
from ledger.exceptions import InsufficientBalance
from ledger.models import AccountKind, Channel

pytestmark = pytest.mark.django_db

operation = st.tuples(st.sampled_from(["fund", "freeze", "release", "settle"]), st.integers(min_value=1,
                                                                                        max_value=50_000))


class Rollback(Exception):
    pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(operation, min_size=1, max_size=25))
def test_random_operations_keep_the_books_balanced(steps, now):
    try:
        with transaction.atomic():
            merchant = MerchantFactory()
            accounts = services.merchant_accounts_open(merchant=merchant, now=now)
            custody = services.platform_account(kind=AccountKind.CUSTODY_BANK, now=now)
            clearing = services.platform_account(kind=AccountKind.CHANNEL_CLEARING, channel=Channel.BANK, now=now)
            fee = services.platform_account(kind=AccountKind.PLATFORM_FEE_REVENUE, now=now)
            available, frozen = accounts[AccountKind.MERCHANT_AVAILABLE], accounts[AccountKind.MERCHANT_FROZEN]
            model = {"available": 0, "frozen": 0}
            for n, (kind, amount) in enumerate(steps):
                ref = f"p-{n}"
                if kind == "fund":
                    lines, change = [(custody, amount), (available, -amount)], {"available": amount}
                elif kind == "freeze":
                    lines, change = [(available, amount), (frozen, -amount)], {"available": -amount, "frozen": amount}
                elif kind == "release":
                    lines, change = [(frozen, amount), (available, -amount)], {"available": amount, "frozen": -amount}
                else:  # settle: frozen → channel (net) + fee, the fee being 6% rounded down
                    fee_fen = amount * 6 // 100
                    lines = [(frozen, amount), (clearing, -(amount - fee_fen))] + ([(fee, -fee_fen)] if fee_fen else [])
                    change = {"frozen": -amount}
                would_overdraw = any(model[k] + v < 0 for k, v in change.items())
                try:
                    services.entry_post(kind=f"prop.{kind}", ref=ref, lines=lines, now=now)
                except InsufficientBalance:
                    assert would_overdraw
                else:
                    assert not would_overdraw
                    for k, v in change.items():
                        model[k] += v
                assert selectors.merchant_available_fen(merchant=merchant) == model["available"]
                assert selectors.merchant_frozen_fen(merchant=merchant) == model["frozen"]
            assert_ledger_ok()
            raise Rollback
    except Rollback:
        pass
