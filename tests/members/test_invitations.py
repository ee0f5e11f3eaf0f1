import io

import pytest
from openpyxl import Workbook

from accounts.models import SmsOutbox
from core.exceptions import NotFound, ValidationFailed
from core.testing.factories import WorkerUserFactory, make_phone, make_resident_id
from members import services, uploads
from members.exceptions import AlreadyInvited, InvitationInvalid, NotSignable, ReminderTooSoon, UploadRejected
from members.models import MemberMerchant
from members.testing import make_signed_worker
from tests.members.conftest import GOOD_CARD, good_id

pytestmark = pytest.mark.django_db


def invite(merchant, actor, now, **overrides):
    data = {"name": "王芳", "id_number": good_id(31), "phone": "13912345678"}
    data.update(overrides)
    return services.worker_invite(merchant=merchant, actor=actor, now=now, **data)


def csv_bytes(rows, header=("姓名", "身份证号", "手机号")):
    lines = [",".join(header)] + [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def xlsx_bytes(rows, header=("姓名", "身份证号", "手机号")):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class TestInviteOne:
    def test_invitation_is_stored_encrypted_and_an_sms_carries_the_link(self, merchant, enterprise_admin, now,
                                                                      django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            relationship = invite(merchant, enterprise_admin, now)
        assert relationship.status == MemberMerchant.Status.INVITED and relationship.member is None
        assert relationship.invite_name_masked == "王*" and relationship.invite_phone_masked == "139****5678"
        sms = SmsOutbox.objects.get(template="invitation")
        assert merchant.name in sms.body and f"/m/invite/{relationship.invite_token}/" in sms.body
        assert sms.phone == "13912345678"
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM members_membermerchant WHERE id = %s", [relationship.pk])
            raw = " ".join(str(value) for value in cursor.fetchone())
        assert "13912345678" not in raw and good_id(31) not in raw and "王芳" not in raw

    @pytest.mark.parametrize(("field", "value", "column", "text"), [
        ("name", "", "姓名", "请填写姓名"),
        ("id_number", "12010119900101001", "身份证号", "格式不正确"),
        ("id_number", make_resident_id(5, birth="20100101"), "身份证号", "未满 18 周岁"),
        ("phone", "1234", "手机号", "不是有效的中国大陆手机号"),
    ])
    def test_bad_input_names_the_column_and_changes_nothing(self, merchant, enterprise_admin, now, field, value,
                                                            column, text):
        with pytest.raises(ValidationFailed, match=text) as error:
            invite(merchant, enterprise_admin, now, **{field: value})
        assert error.value.extra["column"] == column
        assert not MemberMerchant.objects.exists()

    def test_inviting_the_same_person_twice_is_refused(self, merchant, enterprise_admin, now):
        invite(merchant, enterprise_admin, now)
        with pytest.raises(AlreadyInvited, match="已在本企业名单中"):
            invite(merchant, enterprise_admin, now, phone="13912340000")
        with pytest.raises(AlreadyInvited, match="手机号 139\\*\\*\\*\\*5678"):
            invite(merchant, enterprise_admin, now, id_number=good_id(32))
        assert MemberMerchant.objects.count() == 1

    def test_another_enterprise_may_invite_the_same_person(self, merchant, other_merchant, enterprise_admin, now):
        invite(merchant, enterprise_admin, now)
        invite(other_merchant, None, now)
        assert MemberMerchant.objects.count() == 2


class TestUpload:
    def test_csv_list_invites_everyone(self, merchant, enterprise_admin, now, django_capture_on_commit_callbacks):
        content = csv_bytes([("李娜", good_id(41), make_phone(41)), ("刘洋", good_id(42), make_phone(42))])
        with django_capture_on_commit_callbacks(execute=True):
            created = services.worker_invite_upload(merchant=merchant, filename="名单.csv", content=content,
                                                    actor=enterprise_admin, now=now)
        assert len(created) == 2 and {r.source for r in created} == {MemberMerchant.Source.UPLOAD}
        assert SmsOutbox.objects.filter(template="invitation").count() == 2

    def test_xlsx_list_with_numeric_phone_cells(self, merchant, enterprise_admin, now):
        content = xlsx_bytes([("李娜", good_id(41), int(make_phone(41))), ("刘洋", good_id(42), make_phone(42))])
        created = services.worker_invite_upload(merchant=merchant, filename="workers.XLSX", content=content,
                                                actor=enterprise_admin, now=now)
        assert sorted(r.invite_phone for r in created) == sorted([make_phone(41), make_phone(42)])

    def test_id_number_typed_into_a_number_cell_is_explained(self, merchant, enterprise_admin, now):
        content = xlsx_bytes([("李娜", float(good_id(41)[:15]) * 1000, make_phone(41))])
        with pytest.raises(UploadRejected, match="存成了数字") as error:
            services.worker_invite_upload(merchant=merchant, filename="w.xlsx", content=content,
                                          actor=enterprise_admin, now=now)
        assert error.value.extra["errors"][0]["line"] == 2 and error.value.extra["errors"][0]["column"] == "身份证号"

    def test_every_bad_line_is_reported_with_line_and_column_and_nothing_is_imported(self, merchant,
                                                                                     enterprise_admin, now):
        invite(merchant, enterprise_admin, now, id_number=good_id(49), phone=make_phone(49))
        content = csv_bytes([
            ("李娜", good_id(41), make_phone(41)),          # line 2: fine
            ("刘洋", "120101199001010010", make_phone(42)),  # line 3: check character
            ("陈静", good_id(43), "12345"),                   # line 4: phone
            ("杨磊", good_id(41), make_phone(44)),          # line 5: duplicate of line 2
            ("赵敏", good_id(49), make_phone(45)),          # line 6: already invited
            ("", good_id(46), make_phone(46)),               # line 7: no name
        ])
        with pytest.raises(UploadRejected) as error:
            services.worker_invite_upload(merchant=merchant, filename="list.csv", content=content,
                                          actor=enterprise_admin, now=now)
        errors = error.value.extra["errors"]
        assert [(e["line"], e["column"]) for e in errors] == [(3, "身份证号"), (4, "手机号"), (5, "身份证号"),
                                                              (6, "身份证号"), (7, "姓名")]
        assert "与第 2 行重复" in errors[2]["message"]
        assert error.value.message.startswith("第 3 行“身份证号”列：") and "共 5 行有误" in error.value.message
        assert MemberMerchant.objects.count() == 1

    @pytest.mark.parametrize(("filename", "content", "text"), [
        ("list.pdf", b"%PDF-1.7", "类型不支持"),
        ("list.csv", b"PK\x03\x04rest", "不是文本格式的 CSV"),
        ("list.xlsx", "姓名,身份证号,手机号\n".encode(), "不是有效的 .xlsx"),
        ("list.xlsx", b"PK\x03\x04broken", "已损坏"),
        ("list.csv", "名字,证件,电话\n张三,1,2\n".encode(), "第 1 行表头应为"),
        ("list.csv", "姓名,身份证号,手机号\n".encode(), "没有人员数据"),
        ("list.csv", b"", "文件是空的"),
    ])
    def test_wrong_files_are_refused(self, merchant, enterprise_admin, now, filename, content, text):
        with pytest.raises(UploadRejected, match=text):
            services.worker_invite_upload(merchant=merchant, filename=filename, content=content,
                                          actor=enterprise_admin, now=now)
        assert not MemberMerchant.objects.exists()

    def test_oversized_file_is_refused(self, merchant, enterprise_admin, now, settings):
        settings.MEMBERS_UPLOAD_MAX_BYTES = 1024 * 1024
        content = csv_bytes([("李娜", good_id(41), make_phone(41))]) + b" " * (1024 * 1024)
        with pytest.raises(UploadRejected, match="文件过大"):
            services.worker_invite_upload(merchant=merchant, filename="list.csv", content=content,
                                          actor=enterprise_admin, now=now)

    def test_gb18030_csv_from_excel_is_read(self, merchant, enterprise_admin, now):
        content = csv_bytes([("李娜", good_id(41), make_phone(41))]).decode().encode("gb18030")
        created = services.worker_invite_upload(merchant=merchant, filename="list.csv", content=content,
                                                actor=enterprise_admin, now=now)
        assert created[0].invite_name == "李娜"

    def test_templates_read_back_as_valid_lists(self):
        for name, content in (("t.csv", uploads.template_csv()), ("t.xlsx", uploads.template_xlsx())):
            rows = uploads.read_worker_list(filename=name, content=content)
            assert rows[0].line == 2 and rows[0].name == "张三" and rows[0].id_number == uploads.EXAMPLE[1]


class TestRemind:
    def test_remind_resends_the_link_once_a_day(self, merchant, enterprise_admin, now,
                                                django_capture_on_commit_callbacks):
        relationship = invite(merchant, enterprise_admin, now)
        with django_capture_on_commit_callbacks(execute=True):
            services.worker_remind(merchant=merchant, relationship_id=relationship.pk, actor=enterprise_admin, now=now)
        assert SmsOutbox.objects.filter(template="invitation").count() == 1
        with pytest.raises(ReminderTooSoon, match="24 小时内只能提醒一次"):
            services.worker_remind(merchant=merchant, relationship_id=relationship.pk, actor=enterprise_admin, now=now)
        relationship.refresh_from_db()
        assert relationship.reminder_count == 1

    def test_signed_worker_needs_no_reminder(self, merchant, enterprise_admin, now):
        _, relationship = make_signed_worker(merchant=merchant, n=1, now=now)
        with pytest.raises(NotSignable):
            services.worker_remind(merchant=merchant, relationship_id=relationship.pk, actor=enterprise_admin, now=now)

    def test_another_enterprises_worker_is_not_found(self, merchant, other_merchant, enterprise_admin, now):
        relationship = invite(other_merchant, None, now)
        with pytest.raises(NotFound):
            services.worker_remind(merchant=merchant, relationship_id=relationship.pk, actor=enterprise_admin, now=now)
        relationship.refresh_from_db()
        assert relationship.reminder_count == 0


class TestAccept:
    def test_accepting_links_the_worker_who_then_verifies(self, merchant, enterprise_admin, now):
        user = WorkerUserFactory(phone="13912345678")
        relationship = invite(merchant, enterprise_admin, now)
        accepted = services.invitation_accept(user=user, token=relationship.invite_token, now=now)
        assert accepted.status == MemberMerchant.Status.REGISTERED and accepted.member.user == user
        assert services.invitation_accept(user=user, token=relationship.invite_token, now=now).pk == relationship.pk
        services.member_verify(user=user, name="王芳", id_number=good_id(31), bank_card=GOOD_CARD, now=now)
        relationship.refresh_from_db()
        assert relationship.status == MemberMerchant.Status.VERIFIED

    def test_verified_worker_goes_straight_to_verified(self, merchant, enterprise_admin, now):
        member, _ = make_signed_worker(merchant=enterprise_admin.merchant.__class__.objects.create(
            name="另一家", uscc="91120116MA06K8QX1X"[:17] + "0"), n=31, now=now, phone="13912345678",
            id_number=good_id(31))
        relationship = invite(merchant, enterprise_admin, now)
        accepted = services.invitation_accept(user=member.user, token=relationship.invite_token, now=now)
        assert accepted.status == MemberMerchant.Status.VERIFIED

    def test_verification_with_another_id_number_keeps_the_relationship_registered(self, merchant, enterprise_admin,
                                                                                   now):
        user = WorkerUserFactory(phone="13912345678")
        relationship = invite(merchant, enterprise_admin, now)
        services.invitation_accept(user=user, token=relationship.invite_token, now=now)
        services.member_verify(user=user, name="王芳", id_number=good_id(77), bank_card=GOOD_CARD, now=now)
        relationship.refresh_from_db()
        assert relationship.status == MemberMerchant.Status.REGISTERED

    def test_invitation_for_another_phone_is_refused(self, merchant, enterprise_admin, now, worker_user):
        relationship = invite(merchant, enterprise_admin, now)
        with pytest.raises(InvitationInvalid, match="请退出后用该手机号登录"):
            services.invitation_accept(user=worker_user, token=relationship.invite_token, now=now)
        relationship.refresh_from_db()
        assert relationship.member is None and relationship.status == MemberMerchant.Status.INVITED

    def test_unknown_token_is_refused(self, worker_user, now):
        with pytest.raises(InvitationInvalid, match="邀请链接无效"):
            services.invitation_accept(user=worker_user, token="nope", now=now)


class TestEnterprisePages:
    def test_list_shows_states_masked_and_counts(self, client, merchant, other_merchant, enterprise_admin, now):
        invite(merchant, enterprise_admin, now)
        make_signed_worker(merchant=merchant, n=2, now=now, name="刘洋")
        invite(other_merchant, None, now, name="外企人", phone="13700001111", id_number=good_id(90))
        client.force_login(enterprise_admin)
        page = client.get("/enterprise/workers/").content.decode()
        assert "王*" in page and "139****5678" in page and "刘*" in page and "已签约" in page and "已邀请" in page
        assert "外**" not in page and "13912345678" not in page

    def test_the_list_is_paged_and_keeps_the_status_filter(self, client, merchant, enterprise_admin, now,
                                                           monkeypatch):
        monkeypatch.setattr("members.portal.enterprise.WORKERS_PER_PAGE", 2)
        for i, name in enumerate(("分页甲", "分页乙", "分页丙")):
            invite(merchant, enterprise_admin, now, name=name, phone=make_phone(70 + i), id_number=good_id(70 + i))
        client.force_login(enterprise_admin)
        first = client.get("/enterprise/workers/?status=INVITED").content.decode()
        assert "1 / 2" in first and "?status=INVITED&amp;page=2" in first
        second = client.get("/enterprise/workers/?status=INVITED&page=2").content.decode()
        assert "2 / 2" in second and second.count("分*") == 1

    def test_invite_form_and_upload_errors_on_the_page(self, client, merchant, enterprise_admin):
        client.force_login(enterprise_admin)
        response = client.post("/enterprise/workers/invite/", {"name": "王芳", "id_number": "123", "phone": "13912345678"})
        assert response.status_code == 400 and "格式不正确" in response.content.decode()
        content = csv_bytes([("李娜", "120101199001010010", make_phone(41))])
        upload = io.BytesIO(content)
        upload.name = "list.csv"
        response = client.post("/enterprise/workers/upload/", {"file": upload})
        page = response.content.decode()
        assert response.status_code == 400 and "校验位错误" in page and "<td>2</td><td>身份证号</td>" in page
        assert not MemberMerchant.objects.exists()
        response = client.post("/enterprise/workers/invite/", {"name": "王芳", "id_number": good_id(31),
                                                               "phone": "13912345678"})
        assert response.status_code == 302 and MemberMerchant.objects.count() == 1

    def test_templates_download(self, client, enterprise_admin):
        client.force_login(enterprise_admin)
        assert client.get("/enterprise/workers/template.xlsx").content.startswith(b"PK")
        assert "姓名,身份证号,手机号" in client.get("/enterprise/workers/template.csv").content.decode("utf-8-sig")

    def test_invite_link_page_accepts_after_sign_in(self, client, merchant, enterprise_admin, now):
        relationship = invite(merchant, enterprise_admin, now)
        response = client.get(f"/m/invite/{relationship.invite_token}/")
        assert response.status_code == 302 and "/m/login/" in response["Location"]
        user = WorkerUserFactory(phone="13912345678")
        client.force_login(user)
        assert merchant.name in client.get(f"/m/invite/{relationship.invite_token}/").content.decode()
        response = client.post(f"/m/invite/{relationship.invite_token}/")
        assert response["Location"] == "/m/verify/"
        relationship.refresh_from_db()
        assert relationship.status == MemberMerchant.Status.REGISTERED
