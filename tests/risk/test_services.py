import pytest

from core.exceptions import ValidationFailed
from core.models import AuditRecord
from core.testing.factories import MerchantFactory, make_uscc
from risk import services
from risk.exceptions import ListEntryExists
from risk.models import ListEntry, RiskCheck

pytestmark = pytest.mark.django_db

GOOD = {"name": "天津快送同城配送有限公司", "industry": "LOGISTICS",
        "scenario": "同城即时配送：骑手按单完成取送货，按单结算服务费"}


def check(now, **overrides):
    values = {"uscc": make_uscc(9001), **GOOD, **overrides}
    return services.check_merchant_application(now=now, **values)


class TestMerchantApplicationCheck:
    def test_clean_application_passes_and_is_recorded(self, now):
        decision = check(now)
        assert decision.outcome == "PASS" and decision.reasons == []
        assert RiskCheck.objects.get().outcome == "PASS"
        assert AuditRecord.objects.filter(event="risk.merchant_application.checked").exists()

    def test_blacklisted_uscc_is_rejected(self, now, ops_user):
        services.list_entry_add(list_type="BLACK", subject="USCC", value=make_uscc(9001).lower(), reason="虚开发票",
                                actor=ops_user, now=now)
        decision = check(now)
        assert decision.rejected and decision.reasons[0].code == "blacklist_uscc"
        assert "虚开发票" in decision.summary()

    def test_blacklisted_name_keyword_is_rejected(self, now, ops_user):
        services.list_entry_add(list_type="BLACK", subject="MERCHANT_NAME", value="快送", reason="冒用品牌",
                                actor=ops_user, now=now)
        assert check(now).reasons[0].code == "blacklist_name"

    def test_duplicate_uscc_held_by_another_merchant(self, now):
        MerchantFactory(uscc=make_uscc(9001))
        decision = check(now, merchant=MerchantFactory())
        assert decision.rejected and [r.code for r in decision.reasons] == ["duplicate_uscc"]

    @pytest.mark.parametrize(("scenario", "code", "outcome"), [
        ("为客户提供网络贷款撮合与催收服务", "scenario_prohibited", "REJECT"),
        ("配送", "scenario_too_short", "REVIEW"),
    ])
    def test_scenario_rules(self, now, scenario, code, outcome):
        decision = check(now, scenario=scenario)
        assert decision.outcome == outcome and code in [r.code for r in decision.reasons]

    def test_industry_rules(self, now):
        assert check(now, industry="OTHER").outcome == "REVIEW"
        assert check(now, industry="").outcome == "REJECT"

    def test_whitelist_skips_soft_rules_but_never_prohibited_business(self, now, ops_user):
        services.list_entry_add(list_type="WHITE", subject="USCC", value=make_uscc(9001), reason="国企客户",
                                actor=ops_user, now=now)
        assert check(now, industry="OTHER", scenario="配送").outcome == "PASS"
        assert check(now, scenario="代开发票服务").outcome == "REJECT"

    def test_operator_keyword_extends_the_built_in_list(self, now, ops_user):
        services.list_entry_add(list_type="BLACK", subject="SCENARIO_KEYWORD", value="直播打赏返现",
                                reason="疑似变相返利", actor=ops_user, now=now)
        assert check(now, scenario="主播直播打赏返现后分成给灵工人员").rejected


class TestLists:
    def test_entry_needs_value_and_reason_and_is_unique(self, now, ops_user):
        with pytest.raises(ValidationFailed, match="原因"):
            services.list_entry_add(list_type="BLACK", subject="USCC", value=make_uscc(1), reason="",
                                    actor=ops_user, now=now)
        services.list_entry_add(list_type="BLACK", subject="USCC", value=make_uscc(1), reason="x", actor=ops_user,
                                now=now)
        with pytest.raises(ListEntryExists):
            services.list_entry_add(list_type="BLACK", subject="USCC", value=make_uscc(1), reason="y",
                                    actor=ops_user, now=now)
        assert ListEntry.objects.count() == 1

    def test_inactive_entries_do_not_apply(self, now, ops_user):
        entry = services.list_entry_add(list_type="BLACK", subject="USCC", value=make_uscc(9001), reason="x",
                                        actor=ops_user, now=now)
        services.list_entry_set_active(entry=entry, active=False, actor=ops_user, now=now)
        assert check(now).outcome == "PASS"


def test_list_entries_are_added_in_the_admin_through_the_service(ops_user, monkeypatch):
    from django.contrib import admin
    from django.test import Client

    ops_user.is_superuser = True
    ops_user.save()
    monkeypatch.setattr(admin.site, "has_permission", lambda request: request.user.is_active and request.user.is_staff)
    client = Client()
    client.force_login(ops_user)
    data = {"list_type": "BLACK", "subject": "USCC", "value": make_uscc(77).lower(), "reason": "法院失信名单",
            "active": "on"}
    assert client.post("/ops/risk/listentry/add/", data).status_code == 302
    entry = ListEntry.objects.get()
    assert entry.value == make_uscc(77) and entry.created_by == ops_user
    assert AuditRecord.objects.filter(event="risk.list_entry.added").exists()
    again = client.post("/ops/risk/listentry/add/", data)
    assert again.status_code == 200 and "名单中已有" in again.content.decode()
    assert ListEntry.objects.count() == 1


@pytest.mark.django_db
class TestWorkerBlacklist:
    def test_a_worker_is_listed_by_the_blind_index_of_their_id_number(self, ops_user, now):
        from django.db import connection

        from core.pii import blind_index
        from risk.payments import blacklisted_indexes

        entry = services.list_entry_add(list_type=ListEntry.ListType.BLACK, subject=ListEntry.Subject.ID_NUMBER,
                               value="11010519491231002x", reason="冒用他人身份", actor=ops_user, now=now)
        index = blind_index("11010519491231002X", purpose="id_number")
        assert entry.value == index
        assert blacklisted_indexes([index, "other"]) == {index}
        with connection.cursor() as cursor:
            cursor.execute("SELECT value FROM risk_listentry WHERE id = %s", [entry.pk])
            assert "11010519491231002" not in cursor.fetchone()[0]
        record = AuditRecord.objects.get(event="risk.list_entry.added", subject_id=str(entry.pk))
        assert record.after["value"] == "1101**********002X"

    def test_an_invalid_id_number_is_refused(self, ops_user, now):

        with pytest.raises(ValidationFailed, match="校验位"):
            services.list_entry_add(list_type=ListEntry.ListType.BLACK, subject=ListEntry.Subject.ID_NUMBER,
                           value="110105194912310021", reason="x", actor=ops_user, now=now)
