"""Fixtures for payout orders: a funded enterprise, payees with accepted work, and a scripted channel."""

from __future__ import annotations

import threading

import pytest

from core.testing.ledger import fund
from merchants.models import MerchantConfiguration
from payouts.channels import Outcome, QueryResult, QueryStatus, SubmitResult
from payouts.testing_orders import make_payees


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _rule_sets(request):
    if ("db" in request.fixturenames or "transactional_db" in request.fixturenames
            or request.node.get_closest_marker("django_db")):
        from tests.tax.conftest import ensure_rule_sets

        ensure_rule_sets()


class ScriptedChannel:
    """A channel double: ``outcomes[key]`` (or ``default``) decides what submit answers; it remembers every call and
    answers queries from what it decided, like the sandbox does (same key → same order)."""

    channel = "BANK"

    def __init__(self, default=Outcome.SUCCEEDED):
        self.default = default
        self.outcomes: dict[str, str] = {}
        self.submits: list[tuple[str, int]] = []
        self.query_answers: dict[str, str] = {}
        self.lock = threading.Lock()

    def submit(self, request, key):
        with self.lock:
            self.submits.append((key, request.amount_fen))
        outcome = self.outcomes.get(key, self.default)
        if outcome == Outcome.FAILED:
            return SubmitResult(Outcome.FAILED, fail_code="ACCOUNT_CLOSED", fail_message="收款账户已销户")
        return SubmitResult(outcome, channel_order_id=f"CH{key[:8]}")

    def query(self, key):
        status = self.query_answers.get(key, QueryStatus.NOT_FOUND)
        return QueryResult(status, channel_order_id=f"CH{key[:8]}")


@pytest.fixture
def channel(monkeypatch):
    fake = ScriptedChannel()
    monkeypatch.setattr("payouts.services.dispatch.adapter_for", lambda name: fake)
    return fake


@pytest.fixture
def config(merchant):
    return MerchantConfiguration.objects.create(merchant=merchant, enabled_channels=["BANK", "ALIPAY"])


@pytest.fixture
def funded(merchant, config, now):
    fund(merchant, 10_000_000, now=now)
    return merchant


@pytest.fixture
def payees(funded, now):
    return make_payees(merchant=funded, count=5, now=now, amount_fen=800_000)
