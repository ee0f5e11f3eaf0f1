import pytest

from core.testing.factories import EnterpriseUserFactory, MerchantFactory
from members import demo
from members.models import Agreement, Member, MemberMerchant, PayoutAccount
from members.selectors import payout_account_default, worker_eligibility

pytestmark = pytest.mark.django_db


def test_demo_workers_cover_every_state_and_load_is_idempotent(now, django_capture_on_commit_callbacks):
    merchants = [MerchantFactory(name=name) for name in demo.DEMO_MERCHANT_NAMES]
    for merchant in merchants:
        EnterpriseUserFactory(merchant=merchant)
    with django_capture_on_commit_callbacks(execute=True):
        lines = demo.load(now=now)
    assert any("13800000001" in line for line in lines)
    verified = Member.objects.filter(verification_status=Member.Verification.VERIFIED)
    assert verified.count() == 10
    assert Member.objects.filter(verification_status=Member.Verification.FAILED).count() == 1
    terminated = MemberMerchant.objects.get(status="TERMINATED")
    assert terminated.merchant == merchants[0] and terminated.terminated_by_side == "ENTERPRISE"
    assert terminated.member.user.phone == demo.DEMO_WORKERS[demo.TERMINATED_INDEX - 1][0]
    assert worker_eligibility(member=terminated.member, merchant=merchants[0]).ok is False
    for member in verified.exclude(pk=terminated.member_id):
        assert payout_account_default(member=member).kind == PayoutAccount.Kind.BANK
        assert all(worker_eligibility(member=member, merchant=m).ok for m in merchants)
    assert Agreement.objects.filter(method=Agreement.Method.ONLINE).count() == 18
    assert Agreement.objects.get(relationship=terminated).terminated_at is not None
    assert Agreement.objects.filter(method=Agreement.Method.OFFLINE).count() == 1
    statuses = sorted(MemberMerchant.objects.exclude(status="SIGNED").values_list("status", flat=True))
    assert statuses == ["INVITED", "REGISTERED", "REGISTERED", "TERMINATED"]
    counts = (Member.objects.count(), MemberMerchant.objects.count(), Agreement.objects.count(),
              PayoutAccount.objects.count())
    demo.load(now=now)
    assert counts == (Member.objects.count(), MemberMerchant.objects.count(), Agreement.objects.count(),
                      PayoutAccount.objects.count())


def test_demo_without_enterprises_still_loads_workers(now):
    demo.load(now=now)
    assert Member.objects.filter(verification_status=Member.Verification.VERIFIED).count() == 10
