import pytest

from core.testing.ledger import ledger_invariants  # noqa: F401  (used by the autouse fixture below)


@pytest.fixture(autouse=True)
def _ledger_after_each_test(ledger_invariants):  # noqa: F811
    """Every payouts test ends with the ledger invariants checked."""
    return
