"""Ledger helpers for tests that touch money.

- ``assert_ledger_ok()``: fail the test with the list of broken invariants (see ``ledger.invariants``).
- ``ledger_invariants``: a pytest fixture; a test (or a conftest, with ``autouse``) that requests it gets the
  invariants checked after it ran. In a conftest::

      from core.testing.ledger import ledger_invariants  # noqa: F401  (autouse below)

      @pytest.fixture(autouse=True)
      def _ledger_after_each_test(ledger_invariants):
          return
- ``fund(merchant, amount_fen, now=...)``: credit a merchant's available balance from the custody bank, the way
  a matched top-up does, for tests that need money to spend.
"""

from __future__ import annotations

import itertools

import pytest

_seq = itertools.count(1)


def assert_ledger_ok() -> None:
    from ledger.invariants import ledger_check

    report = ledger_check()
    assert report.ok, "ledger invariants broken:\n" + "\n".join(report.problems)


@pytest.fixture
def ledger_invariants(request):
    """Check the ledger's invariants after the test, when it used the database.

    The database fixture is requested here, before the test's own fixtures, so it is torn down *after* this
    check: the check sees what the test wrote, before the rollback or flush.
    """
    names = request.fixturenames
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in names or "live_server" in names or bool(
        marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    uses_db = transactional or "db" in names or marker is not None
    if uses_db:
        request.getfixturevalue("transactional_db" if transactional else "db")
    yield
    if uses_db:
        assert_ledger_ok()


def fund(merchant, amount_fen: int, *, now, ref: str | None = None):
    """Credit ``amount_fen`` to the merchant's available balance (CUSTODY_BANK → MERCHANT_AVAILABLE)."""
    from ledger import services
    from ledger.models import AccountKind

    accounts = services.merchant_accounts_open(merchant=merchant, now=now)
    custody = services.platform_account(kind=AccountKind.CUSTODY_BANK, now=now)
    return services.entry_post(
        kind="test.fund", ref=ref or f"test-fund-{merchant.pk}-{next(_seq)}",
        lines=[(custody, amount_fen), (accounts[AccountKind.MERCHANT_AVAILABLE], -amount_fen)],
        memo="测试充值", now=now, merchant=merchant,
    )
