"""解约: either side ends a worker–enterprise relationship once nothing is open; afterwards tasks and payouts refuse the
worker for that enterprise, a new invitation is refused clearly, and the pages show who ended it and when."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from accounts.exceptions import RoleRequired
from accounts.models import Role
from core.exceptions import NotFound, ValidationFailed
from core.models import AuditRecord
from core.testing.factories import EnterpriseUserFactory, WorkerUserFactory
from members import services
from members.exceptions import NotTerminable, RelationshipTerminated, TerminationBlocked
from members.models import Agreement, Member, MemberMerchant
from members.selectors import member_for_user, worker_eligibility
from merchants.models import MerchantConfiguration
from payouts.exceptions_orders import OrderInvalid
from payouts.models import PayoutBatch, PayoutOrder
from payouts.services.batches import payout_batch_check, payout_batch_upload
from payouts.services.orders import payout_order_create
from payouts.testing_orders import batch_csv, make_payees
from tasks import services as task_services
from tasks.exceptions import WorkerNotEligible
from tasks.models import PayableWork, TaskAssignment
from tests.members.conftest import GOOD_CARD, good_id, sign_code
from tests.tasks.factories import published_task
from tests.tasks.factories import worker as task_worker

pytestmark = pytest.mark.django_db

REASON = "项目结束，双方协商一致解除合作"


@pytest.fixture
def config(merchant):
    from tests.tax.conftest import ensure_rule_sets

    ensure_rule_sets()
    return MerchantConfiguration.objects.create(merchant=merchant, enabled_channels=["BANK", "ALIPAY"])


@pytest.fixture
def payee(merchant, now):
    """A signed worker of ``merchant`` with one piece of accepted work (READY)."""
    return make_payees(merchant=merchant, count=1, now=now, amount_fen=50_000)[0]


def relationship_of(payee) -> MemberMerchant:
    return MemberMerchant.objects.get(member_id=payee.member_id)


def pay_everything(payee) -> None:
    PayableWork.objects.filter(member_id=payee.member_id).update(status=PayableWork.Status.PAID, reserved_ref="paid")


def extra_payable(payee, *, part_no: int, amount_fen: int = 30_000) -> PayableWork:
    """One more piece of accepted work for the payee on the same task (a sub-task part)."""
    first = PayableWork.objects.filter(member_id=payee.member_id).order_by("id").first()
    assignment = TaskAssignment.objects.create(
        merchant_id=first.merchant_id, task_id=first.task_id, member_id=payee.member_id, part_no=part_no,
        status=TaskAssignment.Status.ACCEPTED, planned_quantity=1, accepted_quantity=1, applied_at=first.accepted_at,
        decided_at=first.accepted_at)
    return PayableWork.objects.create(merchant_id=first.merchant_id, task_id=first.task_id, assignment=assignment,
                                      member_id=payee.member_id, quantity=1, unit_price_fen=amount_fen,
                                      amount_fen=amount_fen, accepted_at=first.accepted_at)


@pytest.fixture
def signed(merchant, worker_user, now):
    """A worker who signed the cooperation agreement online with ``merchant`` (an Agreement row with its PDF)."""
    services.member_verify(user=worker_user, name="张伟", id_number=good_id(21), bank_card=GOOD_CARD, now=now)
    relationship = MemberMerchant.objects.create(merchant=merchant, member=member_for_user(user=worker_user),
                                                 status=MemberMerchant.Status.VERIFIED)
    services.agreement_sign(user=worker_user, relationship_id=relationship.pk,
                            code=sign_code(user=worker_user, now=now), now=now, ip="10.1.2.3")
    relationship.refresh_from_db()
    return relationship


class TestEnterpriseTerminates:
    def test_a_signed_worker_with_nothing_open_is_terminated_with_reason_side_and_audit(self, signed, merchant,
                                                                                       enterprise_admin, now):
        later = now + dt.timedelta(days=30)
        relationship = services.relationship_terminate(merchant=merchant, relationship_id=signed.pk,
                                                       actor=enterprise_admin, now=later, reason=f"  {REASON} ",
                                                       ip="10.9.8.7")
        relationship.refresh_from_db()
        assert relationship.status == MemberMerchant.Status.TERMINATED and relationship.terminated_at == later
        assert relationship.terminated_by == enterprise_admin
        assert relationship.terminated_by_side == MemberMerchant.Side.ENTERPRISE
        assert relationship.termination_reason == REASON and relationship.invite_token is None
        agreement = Agreement.objects.get(relationship=relationship)
        assert agreement.terminated_at == later and agreement.file  # the signed file is kept
        record = AuditRecord.objects.get(event="members.relationship.terminated", subject_id=str(relationship.pk))
        assert record.before == {"status": "SIGNED"}
        assert record.after["status"] == "TERMINATED" and record.after["side"] == "ENTERPRISE"
        assert record.after["agreement"] == agreement.number and record.after["name"] == "张*"
        dumped = json.dumps([record.before, record.after], ensure_ascii=False)
        assert "张伟" not in dumped and good_id(21) not in dumped and REASON not in dumped
        eligibility = worker_eligibility(member=relationship.member, merchant=merchant)
        assert not eligibility.ok and [m["code"] for m in eligibility.missing] == ["terminated"]
        assert "解约" in eligibility.missing[0]["message"]

    def test_terminating_twice_says_when_it_was_done(self, signed, merchant, enterprise_admin, now):
        services.relationship_terminate(merchant=merchant, relationship_id=signed.pk, actor=enterprise_admin,
                                        now=now, reason=REASON)
        with pytest.raises(NotTerminable) as error:
            services.relationship_terminate(merchant=merchant, relationship_id=signed.pk, actor=enterprise_admin,
                                            now=now, reason=REASON)
        assert error.value.message == "该合作关系已于 2026-03-16 10:30 解除，无需重复操作"
        assert AuditRecord.objects.filter(event="members.relationship.terminated").count() == 1

    def test_an_invited_worker_who_never_joined_can_be_terminated(self, merchant, enterprise_admin, now):
        invited = services.worker_invite(merchant=merchant, name="李娜", id_number=good_id(22), phone="13911112222",
                                         actor=enterprise_admin, now=now)
        services.relationship_terminate(merchant=merchant, relationship_id=invited.pk, actor=enterprise_admin,
                                        now=now, reason=REASON)
        invited.refresh_from_db()
        assert invited.status == MemberMerchant.Status.TERMINATED and invited.invite_token is None

    def test_a_reason_is_required(self, signed, merchant, enterprise_admin, now):
        with pytest.raises(ValidationFailed, match="请填写解约原因"):
            services.relationship_terminate(merchant=merchant, relationship_id=signed.pk, actor=enterprise_admin,
                                            now=now, reason="   ")
        signed.refresh_from_db()
        assert signed.status == MemberMerchant.Status.SIGNED

    def test_finance_staff_may_not_terminate(self, signed, merchant, now):
        finance = EnterpriseUserFactory(merchant=merchant, role=Role.ENT_FINANCE)
        with pytest.raises(RoleRequired):
            services.relationship_terminate(merchant=merchant, relationship_id=signed.pk, actor=finance, now=now,
                                            reason=REASON)

    def test_another_enterprises_worker_is_not_found(self, signed, other_merchant, now):
        other_admin = EnterpriseUserFactory(merchant=other_merchant)
        with pytest.raises(NotFound):
            services.relationship_terminate(merchant=other_merchant, relationship_id=signed.pk, actor=other_admin,
                                            now=now, reason=REASON)
        signed.refresh_from_db()
        assert signed.status == MemberMerchant.Status.SIGNED


class TestPreconditions:
    def test_unpaid_accepted_work_blocks_with_the_count(self, payee, merchant, enterprise_admin, now):
        relationship = relationship_of(payee)
        with pytest.raises(TerminationBlocked) as error:
            services.relationship_terminate(merchant=merchant, relationship_id=relationship.pk,
                                            actor=enterprise_admin, now=now, reason=REASON)
        assert error.value.message == "该人员在本企业还有 1 笔已验收待付款的工作，请先完成付款后再解约"
        assert error.value.extra == {"relationship_id": relationship.pk, "payouts_in_flight": 0, "work_unpaid": 1,
                                     "assignments_in_progress": 0}
        relationship.refresh_from_db()
        assert relationship.status == MemberMerchant.Status.SIGNED
        assert not AuditRecord.objects.filter(event="members.relationship.terminated").exists()

    def test_payouts_in_flight_and_unpaid_work_are_counted_once_each(self, payee, merchant, config,
                                                                     enterprise_admin, now):
        second, third = extra_payable(payee, part_no=1), extra_payable(payee, part_no=2)
        orders = [payout_order_create(merchant=merchant, actor=enterprise_admin, payable_id=p.pk, amount_fen=None,
                                      channel="BANK", now=now) for p in (second, third)]
        PayoutOrder.objects.filter(pk=orders[0].pk).update(status=PayoutOrder.Status.CONFIRMED)
        PayoutOrder.objects.filter(pk=orders[1].pk).update(status=PayoutOrder.Status.UNKNOWN)
        relationship = relationship_of(payee)
        with pytest.raises(TerminationBlocked) as error:
            services.relationship_terminate(merchant=merchant, relationship_id=relationship.pk,
                                            actor=enterprise_admin, now=now, reason=REASON)
        assert error.value.message == "该人员在本企业还有 2 笔在途付款、1 笔已验收待付款的工作，请先完成付款后再解约"
        assert error.value.extra["payouts_in_flight"] == 2 and error.value.extra["work_unpaid"] == 1

    def test_a_draft_order_holds_its_work_as_unpaid(self, payee, merchant, config, enterprise_admin, now):
        payout_order_create(merchant=merchant, actor=enterprise_admin, payable_id=payee.payable_id, amount_fen=None,
                            channel="BANK", now=now)
        with pytest.raises(TerminationBlocked) as error:
            services.relationship_terminate(merchant=merchant, relationship_id=relationship_of(payee).pk,
                                            actor=enterprise_admin, now=now, reason=REASON)
        assert error.value.extra["payouts_in_flight"] == 0 and error.value.extra["work_unpaid"] == 1

    def test_finished_payouts_do_not_block(self, payee, merchant, config, enterprise_admin, now):
        order = payout_order_create(merchant=merchant, actor=enterprise_admin, payable_id=payee.payable_id,
                                    amount_fen=None, channel="BANK", now=now)
        PayoutOrder.objects.filter(pk=order.pk).update(status=PayoutOrder.Status.SUCCEEDED)
        pay_everything(payee)
        services.relationship_terminate(merchant=merchant, relationship_id=relationship_of(payee).pk,
                                        actor=enterprise_admin, now=now, reason=REASON)
        assert relationship_of(payee).status == MemberMerchant.Status.TERMINATED

    def test_a_task_in_progress_blocks_both_sides(self, merchant, enterprise_admin, now):
        member = task_worker(merchant)
        task = published_task(merchant, enterprise_admin)
        applied = task_services.task_apply(member=member, task_id=task.pk, now=now)
        task_services.assignment_approve(merchant=merchant, assignment_id=applied.pk, actor=enterprise_admin, now=now)
        relationship = MemberMerchant.objects.get(member=member)
        with pytest.raises(TerminationBlocked) as error:
            services.relationship_terminate(merchant=merchant, relationship_id=relationship.pk,
                                            actor=enterprise_admin, now=now, reason=REASON)
        assert error.value.message == ("该人员在本企业还有 1 项进行中的任务，"
                                       "请先结束进行中的任务（验收或由人员放弃）后再解约")
        assert error.value.extra["assignments_in_progress"] == 1
        with pytest.raises(TerminationBlocked) as error:
            services.relationship_terminate_by_member(user=member.user, relationship_id=relationship.pk, now=now,
                                                      reason=REASON)
        assert error.value.message == "您在该企业还有 1 项进行中的任务，请先完成或放弃进行中的任务后再解除合作"
        task_services.assignment_withdraw(member=member, assignment_id=applied.pk, now=now)
        services.relationship_terminate_by_member(user=member.user, relationship_id=relationship.pk, now=now,
                                                  reason=REASON)
        relationship.refresh_from_db()
        assert relationship.status == MemberMerchant.Status.TERMINATED


class TestWorkerTerminates:
    def test_the_worker_ends_their_own_relationship(self, signed, worker_user, now):
        services.relationship_terminate_by_member(user=worker_user, relationship_id=signed.pk, now=now,
                                                  reason="不再从事配送工作", ip="10.1.1.1")
        signed.refresh_from_db()
        assert signed.status == MemberMerchant.Status.TERMINATED
        assert signed.terminated_by == worker_user and signed.terminated_by_side == MemberMerchant.Side.WORKER
        assert signed.termination_reason == "不再从事配送工作"
        assert Agreement.objects.get(relationship=signed).terminated_at == now
        record = AuditRecord.objects.get(event="members.relationship.terminated", subject_id=str(signed.pk))
        assert record.after["side"] == "WORKER" and record.ip == "10.1.1.1"

    def test_another_workers_relationship_is_not_found(self, signed, now):
        stranger = WorkerUserFactory()
        Member.objects.create(user=stranger)
        with pytest.raises(NotFound):
            services.relationship_terminate_by_member(user=stranger, relationship_id=signed.pk, now=now,
                                                      reason=REASON)
        with pytest.raises(NotFound):  # a user who is not a member yet
            services.relationship_terminate_by_member(user=WorkerUserFactory(), relationship_id=signed.pk, now=now,
                                                      reason=REASON)
        signed.refresh_from_db()
        assert signed.status == MemberMerchant.Status.SIGNED


class TestAfterTermination:
    def test_batch_line_and_single_order_are_refused(self, merchant, config, enterprise_admin, now):
        payees = make_payees(merchant=merchant, count=2, now=now, amount_fen=50_000)
        pay_everything(payees[0])
        services.relationship_terminate(merchant=merchant, relationship_id=relationship_of(payees[0]).pk,
                                        actor=enterprise_admin, now=now, reason=REASON)
        batch = payout_batch_upload(merchant=merchant, actor=enterprise_admin, content=batch_csv(payees),
                                    filename="pay.csv", channel="BANK", now=now)
        batch = payout_batch_check(batch_id=batch.pk, now=now)
        assert batch.status == PayoutBatch.Status.INVALID
        by_line = {e["line"]: e for e in batch.errors}
        assert set(by_line) == {2}  # the terminated worker's line only; the other worker is fine
        assert by_line[2]["column"] == "身份证号" and "已与" in by_line[2]["message"] and "解约" in by_line[2]["message"]

        # work released back to READY after termination (e.g. a returned payout): a single order is still refused
        PayableWork.objects.filter(pk=payees[0].payable_id).update(status=PayableWork.Status.READY, reserved_ref="")
        with pytest.raises(OrderInvalid) as error:
            payout_order_create(merchant=merchant, actor=enterprise_admin, payable_id=payees[0].payable_id,
                                amount_fen=None, channel="BANK", now=now)
        assert "解约" in error.value.message
        assert [m["code"] for m in error.value.extra["missing"]] == ["terminated"]

    def test_a_terminated_worker_cannot_be_given_or_take_new_tasks(self, merchant, enterprise_admin, now):
        member = task_worker(merchant)
        relationship = MemberMerchant.objects.get(member=member)
        services.relationship_terminate(merchant=merchant, relationship_id=relationship.pk, actor=enterprise_admin,
                                        now=now, reason=REASON)
        task = published_task(merchant, enterprise_admin)
        with pytest.raises(WorkerNotEligible) as error:
            task_services.task_invite(merchant=merchant, task_id=task.pk, member_ids=[member.pk],
                                      actor=enterprise_admin, now=now)
        assert "解约" in error.value.message
        with pytest.raises(WorkerNotEligible):
            task_services.task_apply(member=member, task_id=task.pk, now=now)
        assert not TaskAssignment.objects.filter(member=member).exists()

    def test_inviting_the_same_person_again_is_refused_clearly(self, merchant, enterprise_admin, now):
        invited = services.worker_invite(merchant=merchant, name="李娜", id_number=good_id(23), phone="13911113333",
                                         actor=enterprise_admin, now=now)
        services.relationship_terminate(merchant=merchant, relationship_id=invited.pk, actor=enterprise_admin,
                                        now=now, reason=REASON)
        with pytest.raises(RelationshipTerminated) as error:
            services.worker_invite(merchant=merchant, name="李娜", id_number=good_id(23), phone="13911113333",
                                   actor=enterprise_admin, now=now)
        assert error.value.message == "该人员已与本企业解约；如需重新合作，请联系平台运营"
        assert MemberMerchant.objects.for_tenant(merchant).count() == 1

    def test_inviting_a_terminated_signed_worker_by_id_number_is_refused(self, signed, merchant, enterprise_admin,
                                                                         now):
        services.relationship_terminate(merchant=merchant, relationship_id=signed.pk, actor=enterprise_admin,
                                        now=now, reason=REASON)
        with pytest.raises(RelationshipTerminated):
            services.worker_invite(merchant=merchant, name="张伟", id_number=good_id(21), phone="13911114444",
                                   actor=enterprise_admin, now=now)


class TestPages:
    def test_enterprise_confirms_with_a_reason_and_sees_the_terminated_state(self, client, signed, merchant,
                                                                            enterprise_admin):
        client.force_login(enterprise_admin)
        url = f"/enterprise/workers/{signed.pk}/terminate/"
        assert url in client.get("/enterprise/workers/").content.decode()
        page = client.get(url).content.decode()
        assert 'name="reason"' in page and "确认解约" in page and "张*" in page
        response = client.post(url, {"reason": ""})
        assert response.status_code == 400 and "请填写解约原因" in response.content.decode()
        response = client.post(url, {"reason": REASON})
        assert response.status_code == 302 and response["Location"] == "/enterprise/workers/"
        listing = client.get("/enterprise/workers/").content.decode()
        assert "已解约" in listing and "企业解约" in listing and url not in listing
        assert "已与该人员解约" in listing  # the flash message

    def test_enterprise_sees_what_blocks_termination(self, client, payee, merchant, enterprise_admin):
        client.force_login(enterprise_admin)
        url = f"/enterprise/workers/{relationship_of(payee).pk}/terminate/"
        assert "已验收待付款的工作 1 笔" in client.get(url).content.decode()
        response = client.post(url, {"reason": REASON})
        assert response.status_code == 400
        assert "该人员在本企业还有 1 笔已验收待付款的工作，请先完成付款后再解约" in response.content.decode()

    def test_another_enterprises_worker_page_is_not_found(self, client, signed, other_merchant):
        client.force_login(EnterpriseUserFactory(merchant=other_merchant))
        response = client.post(f"/enterprise/workers/{signed.pk}/terminate/", {"reason": REASON})
        assert response.status_code == 302
        signed.refresh_from_db()
        assert signed.status == MemberMerchant.Status.SIGNED

    def test_worker_ends_cooperation_from_my_enterprises(self, client, signed, worker_user):
        client.force_login(worker_user)
        url = f"/m/enterprises/{signed.pk}/terminate/"
        assert url in client.get("/m/enterprises/").content.decode()
        assert "确认解除合作" in client.get(url).content.decode()
        response = client.post(url, {"reason": "不再从事配送工作"})
        assert response.status_code == 302 and response["Location"] == "/m/enterprises/"
        page = client.get("/m/enterprises/").content.decode()
        assert "已解约" in page and "由您解除" in page and url not in page
        agreements = client.get("/m/agreements/").content.decode()
        assert "已解约" in agreements and "解约时间" in agreements

    def test_worker_cannot_open_another_workers_relationship(self, client, signed):
        stranger = WorkerUserFactory()
        client.force_login(stranger)
        response = client.post(f"/m/enterprises/{signed.pk}/terminate/", {"reason": REASON})
        assert response.status_code == 302
        signed.refresh_from_db()
        assert signed.status == MemberMerchant.Status.SIGNED

    def test_pages_render_in_english(self, client, signed, merchant, enterprise_admin, worker_user, now):
        # the platform's language is chosen on the site (/i18n/setlang/), not taken from the browser's Accept-Language
        client.force_login(enterprise_admin)
        client.post("/i18n/setlang/", {"language": "en", "next": "/"}, HTTP_ACCEPT_LANGUAGE="en-US")
        page = client.get(f"/enterprise/workers/{signed.pk}/terminate/").content.decode()
        assert "Termination reason" in page and "Confirm termination" in page
        assert "确认解约" not in page and "解约原因" not in page
        response = client.post(f"/enterprise/workers/{signed.pk}/terminate/", {"reason": ""})
        assert "Please give the reason for the termination" in response.content.decode()
        client.post(f"/enterprise/workers/{signed.pk}/terminate/", {"reason": REASON})
        listing = client.get("/enterprise/workers/").content.decode()
        assert "Terminated by the enterprise" in listing and "企业解约" not in listing
        client.logout()
        client.force_login(worker_user)
        client.post("/i18n/setlang/", {"language": "en", "next": "/m/"})
        page = client.get("/m/enterprises/").content.decode()
        assert "Terminated by the enterprise" in page and "由企业解约" not in page

    def test_blocked_message_in_english(self, payee, merchant, enterprise_admin, now):
        from django.utils import translation

        with translation.override("en"), pytest.raises(TerminationBlocked) as error:
            services.relationship_terminate(merchant=merchant, relationship_id=relationship_of(payee).pk,
                                            actor=enterprise_admin, now=now, reason=REASON)
        assert "1 piece(s) of accepted work not yet paid" in error.value.message
        assert not any("\u4e00" <= c <= "\u9fff" for c in error.value.message)



@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_both_sides_terminating_at_once_end_it_once(now):
    from core.testing.concurrency import race
    from core.testing.factories import MerchantFactory

    merchant = MerchantFactory()
    admin = EnterpriseUserFactory(merchant=merchant)
    member = task_worker(merchant)
    relationship = MemberMerchant.objects.get(member=member)
    outcomes = race(
        lambda: services.relationship_terminate(merchant=merchant, relationship_id=relationship.pk, actor=admin,
                                                now=now, reason=REASON),
        lambda: services.relationship_terminate_by_member(user=member.user, relationship_id=relationship.pk,
                                                          now=now, reason="不再合作"),
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["MemberMerchant", "NotTerminable"]
    assert AuditRecord.objects.filter(event="members.relationship.terminated",
                                      subject_id=str(relationship.pk)).count() == 1


def test_operations_see_who_ended_it_and_why(client, signed, merchant, enterprise_admin, now):
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from core.testing.factories import UserFactory

    services.relationship_terminate(merchant=merchant, relationship_id=signed.pk, actor=enterprise_admin, now=now,
                                    reason=REASON)
    ops = UserFactory(role="OPS_ADMIN", is_superuser=True)
    device = TOTPDevice.objects.create(user=ops, name="test", confirmed=True)
    client.force_login(ops)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    page = client.get(f"/ops/members/membermerchant/{signed.pk}/change/").content.decode()
    assert REASON in page and "解约原因" in page and "已解约" in page
