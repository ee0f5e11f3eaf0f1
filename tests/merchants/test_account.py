import json

import pytest

from accounts.models import User
from core.exceptions import ValidationFailed
from core.models import AuditRecord
from core.testing.factories import make_uscc
from merchants import selectors, services
from merchants.exceptions import ChangeNotAllowed, CloseNotAllowed, DuplicateUscc, MerchantNotActive, RiskRejected
from merchants.models import ApiKey, Merchant, MerchantChangeRequest, MerchantConfiguration, ServiceAgreement
from risk.models import ListEntry
from tests.merchants.conftest import signed, start

pytestmark = pytest.mark.django_db


class TestConfiguration:
    def test_operations_set_the_items_and_it_is_audited(self, now, ops_user, merchant):
        config = services.merchant_configuration_set(
            merchant=merchant, actor=ops_user, now=now, fee_rate="0.0550", fee_fixed_fen=100, fee_timing="DURING",
            tax_bearer="MERCHANT", enabled_channels=["BANK", "ALIPAY", "WECHAT", "BANK"],
            fee_tiers=[{"from_fen": 100_000_000, "rate": "0.05"}, {"from_fen": 0, "rate": "0.0550"}])
        assert config.enabled_channels == ["BANK", "ALIPAY", "WECHAT"]
        assert [t["from_fen"] for t in config.fee_tiers] == [0, 100_000_000]
        seen = selectors.merchant_configuration(merchant=merchant)
        assert str(seen.fee_rate) == "0.0550" and seen.fee_timing == "DURING"
        record = AuditRecord.objects.get(event="merchants.configuration.changed")
        assert record.before["fee_rate"] == "0.0600" and record.after["fee_rate"] == "0.0550"
        assert record.actor_id == ops_user.pk and record.merchant_id == merchant.pk

    @pytest.mark.parametrize(("values", "field"), [
        ({"fee_rate": "1.2"}, "fee_rate"),
        ({"fee_rate": "abc"}, "fee_rate"),
        ({"fee_fixed_fen": -1}, "fee_fixed_fen"),
        ({"daily_limit_fen": 0}, "daily_limit_fen"),
        ({"enabled_channels": ["PAYPAL"]}, "enabled_channels"),
        ({"fee_timing": "LATER"}, "fee_timing"),
    ])
    def test_bad_values_are_refused_and_nothing_saved(self, now, ops_user, merchant, values, field):
        with pytest.raises(ValidationFailed) as error:
            services.merchant_configuration_set(merchant=merchant, actor=ops_user, now=now, **values)
        assert error.value.extra["form_field"] == field
        assert not MerchantConfiguration.objects.filter(merchant=merchant).exists()


class TestChanges:
    def test_change_is_reviewed_then_applied_with_history(self, now, ops_user):
        merchant, admin, _ = signed(now, ops_user)
        change = services.merchant_change_request(
            merchant=merchant, actor=admin, now=now, reason="法定代表人变更",
            changes={"legal_rep_name": "李娜", "contact_phone": "13812345678", "company_name": merchant.name})
        assert change.status == "PENDING"
        assert change.changes_masked == {"legal_rep_name": "李*", "contact_phone": "138****5678"}
        assert change.previous["legal_rep_name"] == "张*"
        assert "李娜" not in json.dumps(change.changes, ensure_ascii=False)  # PII lives in the encrypted column
        with pytest.raises(ChangeNotAllowed, match="待审核"):
            services.merchant_change_request(merchant=merchant, actor=admin, now=now, reason="x",
                                             changes={"contact_email": "a@b.cn"})
        services.merchant_change_approve(change=change, actor=ops_user, now=now)
        merchant.application.refresh_from_db()
        assert merchant.application.legal_rep_name == "李娜"
        assert merchant.application.contact_phone == "13812345678"
        assert list(selectors.change_list(merchant=merchant)) == [change]

    def test_uscc_change_checks_duplicates_and_risk(self, now, ops_user):
        other = start(now, uscc=make_uscc(8001))
        merchant, admin, _ = signed(now, ops_user)
        with pytest.raises(DuplicateUscc):
            services.merchant_change_request(merchant=merchant, actor=admin, now=now, reason="更正",
                                             changes={"uscc": other.uscc})
        change = services.merchant_change_request(merchant=merchant, actor=admin, now=now, reason="更正",
                                                  changes={"uscc": make_uscc(8002)})
        ListEntry.objects.create(list_type="BLACK", subject="USCC", value=make_uscc(8002), reason="司法冻结",
                                 created_at=now)
        with pytest.raises(RiskRejected):
            services.merchant_change_approve(change=change, actor=ops_user, now=now)
        merchant.refresh_from_db()
        assert merchant.uscc != make_uscc(8002)
        services.merchant_change_reject(change=change, actor=ops_user, reason="信用代码在黑名单中", now=now)
        change.refresh_from_db()
        assert change.status == "REJECTED"

    def test_same_values_change_nothing(self, now, ops_user):
        merchant, admin, _ = signed(now, ops_user)
        with pytest.raises(ChangeNotAllowed, match="相同"):
            services.merchant_change_request(merchant=merchant, actor=admin, now=now, reason="x",
                                             changes={"company_name": merchant.name})
        assert not MerchantChangeRequest.objects.exists()

    def test_only_after_account_opening(self, now):
        application = start(now)
        with pytest.raises(MerchantNotActive):
            services.merchant_change_request(merchant=application.merchant, actor=application.applicant, now=now,
                                             reason="x", changes={"company_name": "新名字有限公司"})


class TestClose:
    def test_close_with_zero_balance_archives_and_disables(self, now, ops_user):
        merchant, admin, agreement = signed(now, ops_user)
        services.api_key_create(merchant=merchant, actor=admin, now=now)
        request = services.merchant_close_request(merchant=merchant, actor=admin, reason="业务调整", now=now)
        services.merchant_change_approve(change=request, actor=ops_user, now=now)
        merchant.refresh_from_db()
        assert merchant.status == Merchant.Status.CLOSED and merchant.archive_pending and merchant.closed_at == now
        assert not User.objects.get(pk=admin.pk).is_active
        assert not ApiKey.objects.filter(merchant=merchant, revoked_at__isnull=True).exists()
        assert ServiceAgreement.objects.get(pk=agreement.pk).status == "TERMINATED"
        assert AuditRecord.objects.filter(event="merchants.merchant.closed", merchant_id=merchant.pk).exists()

    def test_close_with_a_balance_is_refused(self, now, ops_user):
        from ledger.models import AccountKind
        from ledger.services import entry_post, platform_account

        merchant, admin, _ = signed(now, ops_user)
        available = merchant_account(merchant)
        entry_post(kind="TEST_FUNDING", ref="test-funding-1", now=now, merchant=merchant,
                   lines=[(platform_account(kind=AccountKind.CUSTODY_BANK, now=now), 12345), (available, -12345)])
        with pytest.raises(CloseNotAllowed) as error:
            services.merchant_close_request(merchant=merchant, actor=admin, reason="业务调整", now=now)
        assert "123.45" in error.value.message
        with pytest.raises(CloseNotAllowed):
            services.merchant_close(merchant=merchant, actor=ops_user, now=now)
        merchant.refresh_from_db()
        assert merchant.status == Merchant.Status.ACTIVE and not merchant.archive_pending

    def test_frozen_funds_in_flight_block_closing(self, now, ops_user):
        from ledger.models import AccountKind
        from ledger.services import entry_post, merchant_funds_freeze, platform_account

        merchant, admin, _ = signed(now, ops_user)
        entry_post(kind="TEST_FUNDING", ref="test-funding-2", now=now, merchant=merchant,
                   lines=[(platform_account(kind=AccountKind.CUSTODY_BANK, now=now), 5000),
                          (merchant_account(merchant), -5000)])
        merchant_funds_freeze(merchant=merchant, amount_fen=5000, kind="TEST_FREEZE", ref="test-freeze-1", now=now)
        with pytest.raises(CloseNotAllowed, match="在途"):
            services.merchant_close(merchant=merchant, actor=ops_user, now=now)


def merchant_account(merchant):
    from ledger.models import AccountKind
    from ledger.selectors import merchant_account as get

    return get(merchant=merchant, kind=AccountKind.MERCHANT_AVAILABLE)


class TestSuspend:
    def test_suspend_and_resume(self, now, ops_user, merchant):
        with pytest.raises(ValidationFailed):
            services.merchant_suspend(merchant=merchant, actor=ops_user, reason="", now=now)
        services.merchant_suspend(merchant=merchant, actor=ops_user, reason="风险预警", now=now)
        merchant.refresh_from_db()
        assert merchant.status == Merchant.Status.SUSPENDED
        with pytest.raises(MerchantNotActive):
            services.merchant_suspend(merchant=merchant, actor=ops_user, reason="again", now=now)
        services.merchant_resume(merchant=merchant, actor=ops_user, now=now)
        merchant.refresh_from_db()
        assert merchant.status == Merchant.Status.ACTIVE
        assert AuditRecord.objects.filter(event="merchants.merchant.suspended").count() == 1

    def test_status_cannot_be_assigned_directly(self, merchant):
        with pytest.raises(AttributeError):
            merchant.status = Merchant.Status.CLOSED


def test_pending_change_can_be_withdrawn_only_by_its_enterprise(now, ops_user, other_merchant):
    from core.exceptions import NotFound

    merchant, admin, _ = signed(now, ops_user)
    change = services.merchant_change_request(merchant=merchant, actor=admin, now=now, reason="换邮箱",
                                              changes={"contact_email": "x@example.com"})
    with pytest.raises(NotFound):
        services.merchant_change_withdraw(merchant=other_merchant, actor=admin, change_id=change.pk, now=now)
    services.merchant_change_withdraw(merchant=merchant, actor=admin, change_id=change.pk, now=now)
    change.refresh_from_db()
    assert change.status == "WITHDRAWN"
    with pytest.raises(ChangeNotAllowed):
        services.merchant_change_approve(change=change, actor=ops_user, now=now)
