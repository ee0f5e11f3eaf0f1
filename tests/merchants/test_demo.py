import pytest

from accounts.demo import DEMO_PASSWORD
from accounts.demo import load as load_accounts
from accounts.models import User
from merchants.demo import load
from merchants.models import ApiKey, Merchant, MerchantApplication, ServiceAgreement
from merchants.selectors import merchant_configuration

pytestmark = pytest.mark.django_db


def test_demo_goes_through_onboarding_and_is_idempotent(now):
    load_accounts(now=now)
    lines = load(now=now)
    kuaisong = Merchant.objects.get(name="天津快送同城配送有限公司")
    yunce = Merchant.objects.get(name="北京云测数据科技有限公司")
    for merchant in (kuaisong, yunce):
        assert merchant.status == Merchant.Status.ACTIVE
        assert ServiceAgreement.objects.get(merchant=merchant, status="SIGNED").sha256
    assert merchant_configuration(merchant=kuaisong).fee_timing == "BEFORE"
    assert merchant_configuration(merchant=kuaisong).tax_bearer == "WORKER"
    assert merchant_configuration(merchant=yunce).fee_timing == "DURING"
    assert merchant_configuration(merchant=yunce).tax_bearer == "MERCHANT"
    assert merchant_configuration(merchant=yunce).enabled_channels == ["BANK", "ALIPAY", "WECHAT"]
    for username in ("kuaisong_admin", "kuaisong_finance", "kuaisong_ops", "yunce_admin", "yunce_finance",
                     "yunce_ops"):
        assert User.objects.get(username=username).check_password(DEMO_PASSWORD)
    assert MerchantApplication.objects.filter(status="SUBMITTED").count() == 1
    assert MerchantApplication.objects.filter(status="REJECTED").count() == 1
    key = ApiKey.objects.get(merchant=kuaisong)
    assert any(key.key_id in line and "Secret lgs_" in line for line in lines)
    again = load(now=now)
    assert ApiKey.objects.count() == 1 and Merchant.objects.count() == 4
    assert not any("Secret lgs_" in line for line in again)
