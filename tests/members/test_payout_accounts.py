import pytest
from django.db import connection

from core.exceptions import NotFound
from core.models import AuditRecord
from core.testing.factories import WorkerUserFactory
from members import services
from members.exceptions import NotVerified, PayoutAccountDuplicate, PayoutAccountInvalid, VerificationFailed
from members.models import PayoutAccount
from members.selectors import payout_account_default, payout_account_list
from members.testing import make_verified_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(now):
    return make_verified_member(n=7, now=now, name="陈静", bank_card="6214830000000000777")


def add(member, now, kind, account, **kwargs):
    return services.payout_account_add(member=member, kind=kind, account=account, actor=member.user, now=now, **kwargs)


class TestPayoutAccounts:
    def test_add_alipay_wechat_and_bank_and_switch_default(self, member, now):
        card = payout_account_default(member=member)
        alipay = add(member, now, "ALIPAY", "13812345678")
        wechat = add(member, now, "WECHAT", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
        bank = add(member, now, "BANK", "6222 0202 0011 2233 445", bank_name="中国工商银行", make_default=True)
        assert alipay.account_masked == "138****5678" and not alipay.is_default
        assert wechat.account_masked == "oUp***S6o"
        assert bank.account == "6222020200112233445" and bank.verified_at == now
        assert payout_account_default(member=member) == bank
        assert [a.pk for a in payout_account_list(member=member)] == [bank.pk, card.pk, alipay.pk, wechat.pk]
        services.payout_account_set_default(member=member, account_id=alipay.pk, actor=member.user, now=now)
        assert payout_account_default(member=member) == alipay
        events = list(AuditRecord.objects.filter(event__startswith="members.payout_account").values_list("after", flat=True))
        assert all("6222020200112233445" not in str(after) and "13812345678" not in str(after) for after in events)

    def test_a_card_of_someone_else_is_refused(self, member, now):
        with pytest.raises(VerificationFailed, match="开户人信息与姓名/身份证号不一致"):
            add(member, now, "BANK", "6222020200112231111")
        assert len(payout_account_list(member=member)) == 1

    @pytest.mark.parametrize(("kind", "account", "text"), [
        ("BANK", "6222abc", "只能包含数字"),
        ("ALIPAY", "not-an-account", "支付宝账号"),
        ("WECHAT", "short", "openid"),
        ("PAYPAL", "x@y.com", "不支持的收款账户类型"),
    ])
    def test_bad_accounts_are_refused(self, member, now, kind, account, text):
        with pytest.raises(PayoutAccountInvalid, match=text):
            add(member, now, kind, account)
        assert len(payout_account_list(member=member)) == 1

    def test_duplicate_is_refused(self, member, now):
        add(member, now, "ALIPAY", "a@example.com")
        with pytest.raises(PayoutAccountDuplicate, match="已添加过"):
            add(member, now, "ALIPAY", "A@example.com")

    def test_unverified_member_cannot_add(self, now):
        member = services.member_ensure(user=WorkerUserFactory())
        with pytest.raises(NotVerified):
            add(member, now, "ALIPAY", "a@example.com")

    def test_default_is_removed_only_when_it_is_the_last(self, member, now):
        card = payout_account_default(member=member)
        alipay = add(member, now, "ALIPAY", "a@example.com")
        with pytest.raises(PayoutAccountInvalid, match="请先把另一个账户设为默认"):
            services.payout_account_remove(member=member, account_id=card.pk, actor=member.user, now=now)
        services.payout_account_remove(member=member, account_id=alipay.pk, actor=member.user, now=now)
        services.payout_account_remove(member=member, account_id=card.pk, actor=member.user, now=now)
        assert payout_account_default(member=member) is None
        assert PayoutAccount.objects.filter(member=member, status="REMOVED").count() == 2

    def test_another_members_account_is_not_found(self, member, now):
        other = make_verified_member(n=8, now=now)
        account = payout_account_default(member=other)
        with pytest.raises(NotFound):
            services.payout_account_set_default(member=member, account_id=account.pk, actor=member.user, now=now)
        with pytest.raises(NotFound):
            services.payout_account_remove(member=member, account_id=account.pk, actor=member.user, now=now)

    def test_raw_row_holds_no_plaintext(self, member, now):
        add(member, now, "ALIPAY", "13812345678")
        with connection.cursor() as cursor:
            cursor.execute("SELECT account, account_masked, account_index FROM members_payoutaccount")
            rows = " ".join(" ".join(row) for row in cursor.fetchall())
        assert "13812345678" not in rows and "6214830000000000777" not in rows

    def test_accounts_page(self, client, member):
        client.force_login(member.user)
        response = client.post("/m/accounts/", {"action": "add", "kind": "ALIPAY", "account": "bad"})
        assert response.status_code == 400 and "支付宝账号" in response.content.decode()
        response = client.post("/m/accounts/", {"action": "add", "kind": "ALIPAY", "account": "a@example.com"})
        assert response.status_code == 302
        page = client.get("/m/accounts/").content.decode()
        assert "a***@example.com" in page and "6214 **** **** 0777" in page and "6214830000000000777" not in page
