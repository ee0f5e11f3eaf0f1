import datetime as dt

import pytest

from accounts.exceptions import RoleRequired
from accounts.models import Role, SmsOutbox, User
from core.exceptions import NotFound, ValidationFailed
from core.testing.factories import EnterpriseUserFactory
from merchants import selectors, services
from merchants.exceptions import InvitationExpired, InvitationInvalid, MerchantNotActive, PhoneTaken, UsernameTaken
from merchants.models import ApiKey
from tests.merchants.conftest import signed, start

pytestmark = pytest.mark.django_db


class TestInvitations:
    def test_admin_invites_finance_who_sets_a_password_once(self, now, ops_user, django_capture_on_commit_callbacks,
                                                            mailoutbox):
        merchant, admin, _ = signed(now, ops_user)
        with django_capture_on_commit_callbacks(execute=True):
            invitation, token = services.staff_invite(merchant=merchant, actor=admin, role=Role.ENT_FINANCE,
                                                      full_name="赵会计", phone="13700001111",
                                                      email="finance@example.com", now=now)
        assert token not in invitation.token_hash
        sms = SmsOutbox.objects.filter(template="notice").order_by("-id").first()
        assert f"/enterprise/invite/{token}/" in sms.body and merchant.name in sms.body
        assert mailoutbox and f"/enterprise/invite/{token}/" in mailoutbox[0].body
        user = services.staff_invitation_accept(token=token, username="zhao_finance", password="Caiwu-2026-ok!",
                                                now=now + dt.timedelta(hours=1))
        assert user.role == Role.ENT_FINANCE and user.merchant == merchant and user.phone == "13700001111"
        with pytest.raises(InvitationInvalid, match="已被使用"):
            services.staff_invitation_accept(token=token, username="again", password="Caiwu-2026-ok!", now=now)
        assert [u.username for u in selectors.staff_list(merchant=merchant)] == [admin.username, "zhao_finance"]

    def test_expired_or_unknown_links_are_refused(self, now, ops_user):
        merchant, admin, _ = signed(now, ops_user)
        _, token = services.staff_invite(merchant=merchant, actor=admin, role=Role.ENT_OPERATOR,
                                         phone="13700002222", now=now)
        with pytest.raises(InvitationExpired, match="过期"):
            services.staff_invitation_accept(token=token, username="late", password="Caiwu-2026-ok!",
                                             now=now + dt.timedelta(hours=73))
        with pytest.raises(InvitationInvalid):
            services.staff_invitation_accept(token="nope", username="x", password="Caiwu-2026-ok!", now=now)
        assert not User.objects.filter(username="late").exists()

    def test_bad_invitation_inputs(self, now, ops_user):
        merchant, admin, _ = signed(now, ops_user)
        with pytest.raises(ValidationFailed, match="财务或企业经办人"):
            services.staff_invite(merchant=merchant, actor=admin, role=Role.ENT_ADMIN, phone="13700003333", now=now)
        with pytest.raises(ValidationFailed, match="手机号或邮箱"):
            services.staff_invite(merchant=merchant, actor=admin, role=Role.ENT_FINANCE, now=now)
        with pytest.raises(PhoneTaken):
            services.staff_invite(merchant=merchant, actor=admin, role=Role.ENT_FINANCE, phone=admin.phone, now=now)
        _, token = services.staff_invite(merchant=merchant, actor=admin, role=Role.ENT_FINANCE, phone="13700004444",
                                         now=now)
        with pytest.raises(UsernameTaken):
            services.staff_invitation_accept(token=token, username=admin.username, password="Caiwu-2026-ok!", now=now)

    def test_roles_enforce_permissions(self, now, ops_user):
        merchant, admin, _ = signed(now, ops_user)
        finance = EnterpriseUserFactory(merchant=merchant, role=Role.ENT_FINANCE)
        operator = EnterpriseUserFactory(merchant=merchant, role=Role.ENT_OPERATOR)
        for actor in (finance, operator):
            with pytest.raises(RoleRequired):
                services.staff_invite(merchant=merchant, actor=actor, role=Role.ENT_FINANCE, phone="13700005555",
                                      now=now)
            with pytest.raises(RoleRequired):
                services.api_key_create(merchant=merchant, actor=actor, now=now)

    def test_deactivate_only_own_staff(self, now, ops_user, other_merchant):
        merchant, admin, _ = signed(now, ops_user)
        mine = EnterpriseUserFactory(merchant=merchant, role=Role.ENT_OPERATOR)
        theirs = EnterpriseUserFactory(merchant=other_merchant, role=Role.ENT_OPERATOR)
        with pytest.raises(NotFound):
            services.staff_deactivate(merchant=merchant, actor=admin, user_id=theirs.pk, now=now)
        with pytest.raises(ValidationFailed):
            services.staff_deactivate(merchant=merchant, actor=admin, user_id=admin.pk, now=now)
        services.staff_deactivate(merchant=merchant, actor=admin, user_id=mine.pk, now=now)
        mine.refresh_from_db()
        theirs.refresh_from_db()
        assert not mine.is_active and theirs.is_active


class TestApiKeys:
    def test_secret_shown_once_and_stored_as_a_digest(self, now, ops_user):
        import hashlib

        merchant, admin, _ = signed(now, ops_user)
        key, secret = services.api_key_create(merchant=merchant, actor=admin, label="ERP", now=now)
        stored = ApiKey.objects.get(pk=key.pk)
        assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in stored.secret_hash
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT secret_hash FROM merchants_apikey WHERE id=%s", [key.pk])
            raw = cursor.fetchone()[0]
        assert secret not in raw and stored.secret_hash not in raw  # the digest is encrypted at rest too
        assert stored.secret_hint == secret[-4:]

    def test_revoke_and_isolation(self, now, ops_user, other_merchant):
        merchant, admin, _ = signed(now, ops_user)
        key, _ = services.api_key_create(merchant=merchant, actor=admin, now=now)
        other_admin = EnterpriseUserFactory(merchant=other_merchant)
        with pytest.raises(NotFound):
            services.api_key_revoke(merchant=other_merchant, actor=other_admin, key_id=key.key_id, now=now)
        services.api_key_revoke(merchant=merchant, actor=admin, key_id=key.key_id, now=now)
        key.refresh_from_db()
        assert key.revoked_at == now and key.revoked_by == admin
        assert list(selectors.api_key_list(merchant=other_merchant)) == []

    def test_no_keys_before_account_opening(self, now):
        application = start(now)
        with pytest.raises(MerchantNotActive):
            services.api_key_create(merchant=application.merchant, actor=application.applicant, now=now)
