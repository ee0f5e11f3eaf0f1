import datetime as dt
import time

import pytest

from core.exceptions import ValidationFailed
from core.idempotency import IdempotencyInProgress, IdempotencyKeyReused, fingerprint, run_idempotent
from core.models import IdempotencyRecord
from core.testing.concurrency import race_each

NOW = dt.datetime(2026, 3, 16, 10, 30, tzinfo=dt.UTC)


def _run(merchant, key, body, execute):
    return run_idempotent(merchant=merchant, scope="test.create", key=key, request_fingerprint=fingerprint(body),
                          now=NOW, execute=execute)


@pytest.mark.django_db
class TestIdempotency:
    def test_same_key_and_request_replays_the_stored_response(self, merchant):
        calls = []

        def execute():
            calls.append(1)
            return 201, {"id": len(calls)}

        first = _run(merchant, "k1", {"amount": "1.00"}, execute)
        again = _run(merchant, "k1", {"amount": "1.00"}, execute)
        assert (first.status, first.body, first.replayed) == (201, {"id": 1}, False)
        assert (again.status, again.body, again.replayed) == (201, {"id": 1}, True)
        assert len(calls) == 1

    def test_same_key_different_request_is_a_409(self, merchant):
        _run(merchant, "k1", {"amount": "1.00"}, lambda: (201, {}))
        with pytest.raises(IdempotencyKeyReused) as info:
            _run(merchant, "k1", {"amount": "2.00"}, lambda: (201, {}))
        assert info.value.http_status == 409

    def test_keys_are_per_tenant(self, merchant, other_merchant):
        _run(merchant, "k1", {"a": 1}, lambda: (201, {"who": "first"}))
        result = _run(other_merchant, "k1", {"a": 2}, lambda: (201, {"who": "second"}))
        assert result.body == {"who": "second"} and not result.replayed

    def test_domain_errors_are_stored_and_replayed(self, merchant):
        def fail():
            raise ValidationFailed("余额不足", code="insufficient_balance")

        first = _run(merchant, "k2", {}, fail)
        second = _run(merchant, "k2", {}, lambda: (201, {"unexpected": True}))
        assert first.status == 400 and first.body["code"] == "insufficient_balance"
        assert second.replayed and second.body == first.body

    def test_unexpected_exception_frees_the_key(self, merchant):
        def crash():
            raise RuntimeError("database went away")

        with pytest.raises(RuntimeError):
            _run(merchant, "k3", {}, crash)
        assert not IdempotencyRecord.objects.filter(key="k3").exists()
        assert _run(merchant, "k3", {}, lambda: (200, {"ok": True})).body == {"ok": True}

    def test_a_key_is_required(self, merchant):
        with pytest.raises(ValidationFailed, match="Idempotency-Key"):
            _run(merchant, "", {}, lambda: (200, {}))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_execute_once(merchant):
    executed = []

    def execute():
        executed.append(1)
        time.sleep(0.3)
        return 201, {"order": 1}

    results = race_each(6, lambda i: _run(merchant, "same-key", {"amount": "5.00"}, execute))
    outcomes = [("in_progress", None) if isinstance(r, IdempotencyInProgress) else ("ok", r.replayed) for r in results]
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, IdempotencyInProgress)], results
    assert len(executed) == 1
    assert outcomes.count(("ok", False)) == 1
    assert all(kind in ("in_progress", "ok") for kind, _ in outcomes)
    assert _run(merchant, "same-key", {"amount": "5.00"}, execute).replayed
