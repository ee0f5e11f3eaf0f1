import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SmsCode
from core.testing.factories import EnterpriseUserFactory, UserFactory

PASSWORD = "Secret-pass-123"


@pytest.mark.django_db
class TestEnterpriseLogin:
    def test_password_login_reaches_the_dashboard(self, client, enterprise_admin):
        response = client.post("/enterprise/login/", {"username": enterprise_admin.username, "password": PASSWORD})
        assert response.status_code == 302 and response["Location"] == "/enterprise/"
        page = client.get("/enterprise/")
        assert page.status_code == 200
        assert enterprise_admin.merchant.name in page.content.decode()

    def test_wrong_password_shows_a_clear_error(self, client, enterprise_admin):
        response = client.post("/enterprise/login/", {"username": enterprise_admin.username, "password": "nope"})
        assert "登录名或密码不正确" in response.content.decode()

    def test_five_failures_lock_the_login_for_a_while(self, client, enterprise_admin):
        for _ in range(5):
            client.post("/enterprise/login/", {"username": enterprise_admin.username, "password": "nope"})
        response = client.post("/enterprise/login/", {"username": enterprise_admin.username, "password": PASSWORD})
        assert "登录失败次数过多" in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_user_with_a_totp_device_needs_the_code(self, client, enterprise_admin):
        device = TOTPDevice.objects.create(user=enterprise_admin, name="phone", confirmed=True)
        response = client.post("/enterprise/login/", {"username": enterprise_admin.username, "password": PASSWORD})
        assert "请输入验证器 App 中的 6 位动态口令" in response.content.decode()
        code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
        response = client.post("/enterprise/login/", {"username": enterprise_admin.username, "password": PASSWORD,
                                                      "otp_token": code})
        assert response.status_code == 302

    def test_platform_staff_are_sent_to_the_ops_login(self, client):
        staff = UserFactory()
        response = client.post("/enterprise/login/", {"username": staff.username, "password": PASSWORD})
        assert "运营人员请从运营后台登录" in response.content.decode()

    def test_dashboard_requires_login(self, client):
        response = client.get("/enterprise/")
        assert response.status_code == 302 and response["Location"].startswith("/enterprise/login/")

    def test_open_redirects_are_refused(self, client, enterprise_admin):
        response = client.post("/enterprise/login/?next=https://evil.example/", {
            "username": enterprise_admin.username, "password": PASSWORD})
        assert response["Location"] == "/enterprise/"


@pytest.mark.django_db
class TestWorkerLoginPage:
    def test_send_code_then_sign_in(self, client):
        response = client.post("/m/login/code/", {"phone": "13912345678"})
        assert response.status_code == 200
        code = response.json()["message"].split("：")[-1].rstrip("）")
        assert len(code) == 6 and code.isdigit()
        response = client.post("/m/login/", {"phone": "13912345678", "code": code})
        assert response.status_code == 302
        assert client.get("/m/").status_code == 200

    def test_bad_phone_gets_a_json_error(self, client):
        response = client.post("/m/login/code/", {"phone": "123"})
        assert response.status_code == 400 and "手机号" in response.json()["message"]

    def test_wrong_code_shows_the_reason(self, client):
        client.post("/m/login/code/", {"phone": "13912345678"})
        response = client.post("/m/login/", {"phone": "13912345678", "code": "12345"})
        assert "验证码不正确" in response.content.decode()
        assert SmsCode.objects.get().attempts == 1

    def test_enterprise_staff_cannot_use_worker_pages(self, client, enterprise_admin):
        client.force_login(enterprise_admin)
        assert client.get("/m/")["Location"].startswith("/m/login/")


@pytest.mark.django_db
class TestOpsAdmin:
    def test_login_page_is_branded_and_asks_for_the_token(self, client):
        page = client.get("/ops/login/").content.decode()
        assert "灵工" in page and "otp_token" in page

    def test_staff_without_verified_otp_is_refused(self, client):
        staff = UserFactory(is_staff=True)
        client.force_login(staff)
        assert client.get("/ops/")["Location"].startswith("/ops/login/")

    def test_password_plus_totp_opens_the_admin(self, client):
        staff = UserFactory(is_staff=True, is_superuser=True)
        device = TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
        code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
        response = client.post("/ops/login/", {"username": staff.username, "password": PASSWORD,
                                               "otp_device": device.persistent_id, "otp_token": code,
                                               "next": "/ops/"})
        assert response.status_code == 302
        assert client.get("/ops/").status_code == 200

    def test_enterprise_user_cannot_enter_the_admin(self, client):
        client.force_login(EnterpriseUserFactory())
        assert client.get("/ops/").status_code == 302


@pytest.mark.django_db
def test_a_missing_enterprise_role_is_a_403_page_not_a_server_error(client):
    operator = EnterpriseUserFactory(role="ENT_OPERATOR")
    client.force_login(operator)
    response = client.get("/enterprise/staff/")  # staff management is for the enterprise admin only
    assert response.status_code == 403
    assert "无权" in response.content.decode()
