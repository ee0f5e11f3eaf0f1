import datetime as dt
import os
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from core.testing.factories import EnterpriseUserFactory
from tasks import selectors, services
from tasks.exceptions import (
    AssignmentNotFound,
    AssignmentStateInvalid,
    BudgetExceeded,
    CheckInRefused,
    EvaluationInvalid,
    ProofInvalid,
    QuantityInvalid,
    TaskStateInvalid,
)
from tasks.models import CheckIn, Evaluation, PayableWork, ProofFile, TaskAssignment

from .factories import NOW, published_task, worker

pytestmark = pytest.mark.django_db
DURING = NOW + dt.timedelta(days=1, hours=1)
JPEG = b"\xff\xd8\xff\xe0" + b"0" * 200
PDF = b"%PDF-1.7\n" + b"1" * 100


def photo(name="现场.jpg", data=JPEG):
    return ContentFile(data, name=name)


@pytest.fixture
def claimed(merchant, enterprise_admin):
    task = published_task(merchant, enterprise_admin, take_mode="CLAIM",
                          proof_kinds=["PHOTO", "TEXT", "CHECKIN", "QUANTITY"])
    member = worker(merchant)
    return services.task_claim(member=member, task_id=task.pk, now=NOW)


def check_in(assignment, **kwargs):
    values = {"kind": "IN", "latitude": "39.137000", "longitude": "117.210000", "now": DURING}
    values.update(kwargs)
    return services.assignment_check_in(member=assignment.member, assignment_id=assignment.pk, **values)


def submit(assignment, **kwargs):
    values = {"text": "已送达 18 单", "quantity": "18", "photos": [photo()], "now": DURING}
    values.update(kwargs)
    return services.assignment_submit_proof(member=assignment.member, assignment_id=assignment.pk, **values)


class TestCheckIn:
    def test_within_the_radius_is_recorded_with_its_distance(self, claimed):
        record = check_in(claimed)

        assert record.kind == CheckIn.Kind.IN and 100 <= record.distance_m <= 120

    def test_too_far_is_refused_with_the_distance(self, claimed):
        with pytest.raises(CheckInRefused, match="约 2.2 公里，超出签到范围 500 米") as info:
            check_in(claimed, latitude="39.156000")
        assert info.value.extra["radius_m"] == 500
        assert not CheckIn.objects.exists()

    def test_outside_the_schedule_is_refused(self, claimed):
        with pytest.raises(CheckInRefused, match="开始前 1 小时起可以签到"):
            check_in(claimed, now=NOW)

    def test_bad_coordinates_are_refused(self, claimed):
        with pytest.raises(CheckInRefused, match="纬度必须在 -90 到 90 之间"):
            check_in(claimed, latitude="139.1")

    def test_check_out_needs_a_check_in_first(self, claimed):
        with pytest.raises(CheckInRefused, match="请先签到"):
            check_in(claimed, kind="OUT")


class TestProof:
    def test_proof_is_stored_with_its_checksum(self, claimed):
        check_in(claimed)

        assignment = submit(claimed)

        assert assignment.status == TaskAssignment.Status.SUBMITTED and assignment.reported_quantity == Decimal("18")
        proof = ProofFile.objects.get(assignment=claimed)
        import hashlib
        assert proof.sha256 == hashlib.sha256(JPEG).hexdigest() and proof.content_type == "image/jpeg"
        assert default_storage.exists(proof.file.name) and "现场" not in proof.file.name

    def test_missing_check_in_is_refused(self, claimed):
        with pytest.raises(ProofInvalid, match="请先在任务地点签到"):
            submit(claimed)

    @pytest.mark.parametrize(("kwargs", "error", "text"), [
        ({"photos": []}, ProofInvalid, "至少上传 1 张照片"),
        ({"photos": [photo("x.jpg", PDF)]}, ProofInvalid, "不是可接受的照片格式"),
        ({"photos": [photo("x.jpg", b"\x00\x01garbage")]}, ProofInvalid, "不是可接受的照片格式"),
        ({"text": ""}, ProofInvalid, "至少 5 个字"),
        ({"quantity": ""}, QuantityInvalid, "请填写完成的件数"),
        ({"quantity": "-3"}, QuantityInvalid, "必须大于 0"),
        ({"quantity": "21"}, QuantityInvalid, "超过计划数量 20"),
    ])
    def test_wrong_proof_is_refused_and_nothing_is_stored(self, claimed, kwargs, error, text):
        check_in(claimed)

        with pytest.raises(error, match=text):
            submit(claimed, **kwargs)

        claimed.refresh_from_db()
        assert claimed.status == TaskAssignment.Status.CLAIMED and not ProofFile.objects.exists()

    def test_too_large_is_refused(self, claimed, settings, monkeypatch):
        from tasks import files

        monkeypatch.setattr(files, "MAX_PROOF_BYTES", 100)
        check_in(claimed)
        with pytest.raises(ProofInvalid, match="“现场.jpg”.*MB 上限"):
            submit(claimed)

    def test_files_written_before_a_failure_are_removed(self, claimed, monkeypatch):
        check_in(claimed)
        from tasks.models import TaskAssignment as Model

        def broken(*args, **kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(Model, "save", broken)
        with pytest.raises(RuntimeError):
            submit(claimed)
        stored = [f for _, _, files in os.walk(default_storage.path("task-proofs")) for f in files]
        assert stored == []
        assert not ProofFile.objects.exists()


class TestAcceptance:
    def test_accepting_yields_payable_work_quantity_times_price(self, claimed, merchant, enterprise_admin):
        check_in(claimed)
        submit(claimed)

        payable = services.assignment_accept(merchant=merchant, assignment_id=claimed.pk, actor=enterprise_admin,
                                             now=DURING, quantity="17.5")

        assert (payable.quantity, payable.unit_price_fen, payable.amount_fen) == (Decimal("17.5"), 800, 14_000)
        assert list(selectors.payable_work_list(merchant=merchant)) == [payable]

    def test_accepting_twice_is_refused(self, claimed, merchant, enterprise_admin):
        check_in(claimed)
        submit(claimed)
        services.assignment_accept(merchant=merchant, assignment_id=claimed.pk, actor=enterprise_admin, now=DURING)

        with pytest.raises(AssignmentStateInvalid, match="验收通过"):
            services.assignment_accept(merchant=merchant, assignment_id=claimed.pk, actor=enterprise_admin,
                                       now=DURING)
        assert PayableWork.objects.count() == 1

    def test_another_enterprise_cannot_accept(self, claimed):
        check_in(claimed)
        submit(claimed)
        outsider = EnterpriseUserFactory()

        with pytest.raises(AssignmentNotFound):
            services.assignment_accept(merchant=outsider.merchant, assignment_id=claimed.pk, actor=outsider,
                                       now=DURING)
        assert not PayableWork.objects.exists()

    def test_acceptance_never_exceeds_the_budget(self, merchant, enterprise_admin):
        task = published_task(merchant, enterprise_admin, take_mode="CLAIM", headcount=1, budget_fen=16_000,
                              proof_kinds=["QUANTITY"])
        a = services.task_claim(member=worker(merchant), task_id=task.pk, now=NOW)
        submit(a, photos=[], text="", quantity="20")
        task.budget_fen = 10_000  # as if an edit lowered it below what was promised
        task.save(update_fields=["budget_fen"])

        with pytest.raises(BudgetExceeded, match="超过任务预算 ¥100.00"):
            services.assignment_accept(merchant=merchant, assignment_id=a.pk, actor=enterprise_admin, now=DURING)

    def test_reject_redo_dispute_and_operations_resolve(self, claimed, merchant, enterprise_admin, ops_user):
        check_in(claimed)
        submit(claimed)
        services.assignment_reject(merchant=merchant, assignment_id=claimed.pk, actor=enterprise_admin,
                                   reason="照片看不清门牌号", now=DURING)
        submit(claimed, photos=[photo("2.jpg", JPEG + b"x")])
        services.assignment_reject(merchant=merchant, assignment_id=claimed.pk, actor=enterprise_admin,
                                   reason="仍然看不清门牌号", now=DURING)

        services.assignment_dispute(member=claimed.member, assignment_id=claimed.pk, reason="门牌号在第二张照片里",
                                    now=DURING)
        resolved = services.assignment_resolve_dispute(assignment_id=claimed.pk, actor=ops_user, for_worker=True,
                                                       note="第二张照片清楚显示门牌号", now=DURING)

        assert resolved.status == TaskAssignment.Status.ACCEPTED
        assert PayableWork.objects.get(assignment=claimed).amount_fen == 18 * 800

    def test_a_dispute_resolved_for_the_enterprise_is_final(self, claimed, merchant, enterprise_admin, ops_user):
        check_in(claimed)
        submit(claimed)
        services.assignment_reject(merchant=merchant, assignment_id=claimed.pk, actor=enterprise_admin,
                                   reason="未完成配送", now=DURING)
        services.assignment_dispute(member=claimed.member, assignment_id=claimed.pk, reason="我已送达", now=DURING)
        services.assignment_resolve_dispute(assignment_id=claimed.pk, actor=ops_user, for_worker=False,
                                            note="客户签收记录显示未送达", now=DURING)

        with pytest.raises(AssignmentStateInvalid, match="已由平台处理"):
            services.assignment_dispute(member=claimed.member, assignment_id=claimed.pk, reason="再申诉一次",
                                        now=DURING)
        with pytest.raises(AssignmentStateInvalid):
            submit(claimed)
        services.task_complete(merchant=merchant, task_id=claimed.task_id, actor=enterprise_admin, now=DURING)


class TestEvaluation:
    def test_both_ways_once_each(self, claimed, merchant, enterprise_admin):
        check_in(claimed)
        submit(claimed)
        services.assignment_accept(merchant=merchant, assignment_id=claimed.pk, actor=enterprise_admin, now=DURING)

        services.evaluation_of_worker_create(merchant=merchant, assignment_id=claimed.pk, actor=enterprise_admin,
                                             stars=5, comment="准时", now=DURING)
        services.evaluation_of_enterprise_create(member=claimed.member, assignment_id=claimed.pk, stars=4,
                                                 now=DURING)
        with pytest.raises(EvaluationInvalid, match="已经评价过了"):
            services.evaluation_of_worker_create(merchant=merchant, assignment_id=claimed.pk, actor=enterprise_admin,
                                                 stars=1, now=DURING)

        assert selectors.worker_rating(member=claimed.member) == (Decimal("5.0"), 1)
        assert selectors.merchant_rating(merchant=merchant) == (Decimal("4.0"), 1)

    @pytest.mark.parametrize("stars", [0, 6, "5", True])
    def test_stars_are_one_to_five(self, claimed, merchant, enterprise_admin, stars):
        check_in(claimed)
        submit(claimed)
        services.assignment_accept(merchant=merchant, assignment_id=claimed.pk, actor=enterprise_admin, now=DURING)

        with pytest.raises(EvaluationInvalid, match="1 到 5"):
            services.evaluation_of_worker_create(merchant=merchant, assignment_id=claimed.pk, actor=enterprise_admin,
                                                 stars=stars, now=DURING)
        assert not Evaluation.objects.exists()

    def test_not_before_acceptance(self, claimed, merchant, enterprise_admin):
        with pytest.raises(EvaluationInvalid, match="验收完成后"):
            services.evaluation_of_worker_create(merchant=merchant, assignment_id=claimed.pk, actor=enterprise_admin,
                                                 stars=5, now=DURING)


class TestDisputeWindow:
    def test_after_seven_days_a_rejection_is_final_and_the_task_can_be_completed(self, claimed, merchant,
                                                                                 enterprise_admin):
        check_in(claimed)
        submit(claimed)
        services.assignment_reject(merchant=merchant, assignment_id=claimed.pk, actor=enterprise_admin,
                                   reason="未按要求拍照", now=DURING)

        with pytest.raises(TaskStateInvalid, match="还有 1 份工作"):
            services.task_complete(merchant=merchant, task_id=claimed.task_id, actor=enterprise_admin,
                                   now=DURING + dt.timedelta(days=1))
        with pytest.raises(AssignmentStateInvalid, match="超过 7 天申诉期"):
            services.assignment_dispute(member=claimed.member, assignment_id=claimed.pk, reason="我拍了照片",
                                        now=DURING + dt.timedelta(days=8))
        task = services.task_complete(merchant=merchant, task_id=claimed.task_id, actor=enterprise_admin,
                                      now=DURING + dt.timedelta(days=8))

        assert task.status == "COMPLETED"
