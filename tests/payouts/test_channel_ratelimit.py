"""A channel's request rate (WeChat Pay: 100 a second per merchant) is kept by dispatch, and a request the channel
refuses as over its rate is sent again with the same key instead of being left UNKNOWN."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from payouts.channels import Outcome, SubmitResult
from payouts.channels.ratelimit import requests_per_second, throttle
from payouts.models import PayoutOrder
from payouts.services.dispatch import payout_orders_dispatch
from payouts.services.orders import payout_order_confirm, payout_order_create


class FakeClock:
    def __init__(self, start: float):
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(("per_second", "allowed_in_a_second"), [(90, 90), (100, 100), (5, 5), (15, 10)])
def test_throttle_lets_no_more_than_the_rate_through_in_a_second(per_second, allowed_in_a_second):
    cache.clear()
    clock = FakeClock(1_000_000.0)
    started = []
    for _ in range(3 * per_second):
        throttle(f"TEST{per_second}", per_second, clock=clock, sleep=clock.sleep)
        started.append(clock.now)
    by_second = {}
    for moment in started:
        by_second[int(moment - 1e-6)] = by_second.get(int(moment - 1e-6), 0) + 1
    assert max(by_second.values()) <= allowed_in_a_second
    assert len(started) == 3 * per_second  # spread over the seconds the rate needs, not stalled:
    assert clock.now - 1_000_000.0 < 3 * per_second / allowed_in_a_second + 0.5


def test_throttle_waits_for_the_next_window_and_says_how_long():
    cache.clear()
    clock = FakeClock(2_000_000.0)
    waits = [throttle("TESTW", 20, clock=clock, sleep=clock.sleep) for _ in range(3)]  # 2 per 100 ms window
    assert waits[:2] == [0.0, 0.0]
    assert waits[2] == pytest.approx(0.101)


def test_wechat_keeps_under_its_published_limit(settings):
    assert requests_per_second("WECHAT") == 90 <= 100
    assert requests_per_second("BANK") is None
    settings.CHANNEL_REQUESTS_PER_SECOND = {"WECHAT": 0}
    assert requests_per_second("WECHAT") is None


class RateLimitedChannel:
    """Refuses each key's first ``refusals`` requests as WeChat does over its rate (429 FREQUENCY_LIMITED)."""

    channel = "WECHAT"
    batch_api = False
    rate_limited_codes = frozenset({"FREQUENCY_LIMITED"})

    def __init__(self, refusals: int):
        self.refusals = refusals
        self.calls: dict[str, int] = {}

    def submit(self, request, key):
        self.calls[key] = self.calls.get(key, 0) + 1
        if self.calls[key] <= self.refusals:
            return SubmitResult(Outcome.REJECTED, fail_code="FREQUENCY_LIMITED", fail_message="频率超限，请降低请求频率")
        return SubmitResult(Outcome.ACCEPTED, channel_order_id=f"WX{key[:10]}")


@pytest.fixture
def wechat_orders(db, merchant, now, monkeypatch, settings):
    from core.testing.factories import EnterpriseUserFactory
    from core.testing.ledger import fund
    from merchants.models import MerchantConfiguration
    from payouts.testing_orders import make_payees
    from tests.tax.conftest import ensure_rule_sets

    ensure_rule_sets()
    settings.CHANNEL_REQUESTS_PER_SECOND = {}
    monkeypatch.setattr("payouts.services.dispatch.RATE_LIMITED_PAUSE_S", 0.0)
    monkeypatch.setattr("payouts.jobs_orders.payout_orders_dispatch_job.apply_async", lambda *a, **k: None)
    MerchantConfiguration.objects.create(merchant=merchant, enabled_channels=["WECHAT"])
    actor = EnterpriseUserFactory(merchant=merchant)
    fund(merchant, 1_000_000, now=now)
    payees = make_payees(merchant=merchant, count=3, now=now, seed=77, amount_fen=100_00, wechat=True)
    orders = []
    for payee in payees:
        order = payout_order_create(merchant=merchant, actor=actor, payable_id=payee.payable_id, amount_fen=None,
                                    channel="WECHAT", now=now)
        orders.append(payout_order_confirm(merchant=merchant, order_id=order.pk, actor=actor, now=now))
    return orders


@pytest.mark.parametrize(("refusals", "status", "calls"), [
    (2, PayoutOrder.Status.PROCESSING, 3),  # refused twice, accepted the third time: same key every time
    (9, PayoutOrder.Status.UNKNOWN, 5),  # still refused after 5 requests: UNKNOWN, for the query job
])
def test_a_request_refused_as_over_the_rate_is_sent_again_with_the_same_key(wechat_orders, monkeypatch, now,
                                                                             refusals, status, calls):
    fake = RateLimitedChannel(refusals)
    monkeypatch.setattr("payouts.services.dispatch.adapter_for", lambda name: fake)
    payout_orders_dispatch(order_ids=[o.pk for o in wechat_orders], now=now, workers=2)
    for order in wechat_orders:
        order.refresh_from_db()
        assert order.status == status
        assert fake.calls[order.idempotency_key] == calls
        assert order.submit_attempts == 1  # one submission, however many requests it took
    assert set(fake.calls) == {o.idempotency_key for o in wechat_orders}


def test_dispatch_keeps_to_the_configured_rate(wechat_orders, monkeypatch, now, settings):
    settings.CHANNEL_REQUESTS_PER_SECOND = {"WECHAT": 40}
    fake = RateLimitedChannel(0)
    monkeypatch.setattr("payouts.services.dispatch.adapter_for", lambda name: fake)
    asked = []
    monkeypatch.setattr("payouts.services.dispatch.throttle", lambda channel, rate: asked.append((channel, rate)))
    payout_orders_dispatch(order_ids=[o.pk for o in wechat_orders], now=now, workers=2)
    assert asked == [("WECHAT", 40)] * 3
    assert sorted(fake.calls.values()) == [1, 1, 1]  # one request each: nothing was refused
