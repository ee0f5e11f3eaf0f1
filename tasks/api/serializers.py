"""Serializers of the partner API (plain Serializers; money as yuan strings, "1234.56")."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from core.api import YuanAmountField
from tasks.inputs import PartData, TaskData
from tasks.models import PricingMode, ProofKind, Task


class TaskInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=100)
    description = serializers.CharField()
    category = serializers.CharField(help_text="类目编码，见 GET /api/v1/tasks/categories/")
    skills = serializers.ListField(child=serializers.CharField(max_length=20), required=False, default=list)
    pricing_mode = serializers.ChoiceField(choices=PricingMode.choices)
    unit_price = YuanAmountField(help_text="单价（元），如 \"8.00\"")
    quantity_per_worker = serializers.DecimalField(max_digits=10, decimal_places=2, required=False,
                                                   default=Decimal("1"))
    headcount = serializers.IntegerField(min_value=1, max_value=10_000)
    budget = YuanAmountField(help_text="预算（元）")
    take_mode = serializers.ChoiceField(choices=Task.TakeMode.choices, required=False, default=Task.TakeMode.APPLY)
    is_remote = serializers.BooleanField(required=False, default=False)
    address = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    city = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True,
                                        default=None)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True,
                                         default=None)
    radius_m = serializers.IntegerField(required=False, default=500)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    deadline_at = serializers.DateTimeField()
    proof_kinds = serializers.ListField(child=serializers.ChoiceField(choices=ProofKind.choices), allow_empty=False)

    def to_data(self) -> TaskData:
        d = self.validated_data
        return TaskData(
            title=d["title"], description=d["description"], category_code=d["category"], skills=d["skills"],
            pricing_mode=d["pricing_mode"], unit_price_fen=d["unit_price"], budget_fen=d["budget"],
            headcount=d["headcount"], quantity_per_worker=d["quantity_per_worker"], take_mode=d["take_mode"],
            is_remote=d["is_remote"], address=d["address"], city=d["city"], latitude=d["latitude"],
            longitude=d["longitude"], radius_m=d["radius_m"], starts_at=d["starts_at"], ends_at=d["ends_at"],
            deadline_at=d["deadline_at"], proof_kinds=d["proof_kinds"],
        )


class TaskOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    version = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField(source="category.code")
    skills = serializers.ListField(child=serializers.CharField())
    pricing_mode = serializers.CharField()
    unit_price = YuanAmountField(source="unit_price_fen")
    quantity_per_worker = serializers.DecimalField(max_digits=10, decimal_places=2)
    headcount = serializers.IntegerField()
    budget = YuanAmountField(source="budget_fen")
    take_mode = serializers.CharField()
    is_remote = serializers.BooleanField()
    address = serializers.CharField()
    city = serializers.CharField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    radius_m = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    deadline_at = serializers.DateTimeField()
    proof_kinds = serializers.ListField(child=serializers.CharField())
    review_reason = serializers.CharField()
    review_findings = serializers.ListField(child=serializers.DictField())
    submitted_at = serializers.DateTimeField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)


class AssignmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    task_id = serializers.IntegerField()
    member_id = serializers.IntegerField()
    status = serializers.CharField()
    part_no = serializers.IntegerField(allow_null=True)
    part_title = serializers.CharField()
    planned_quantity = serializers.DecimalField(max_digits=10, decimal_places=2)
    reported_quantity = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    accepted_quantity = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    proof_text = serializers.CharField()
    proof_files = serializers.SerializerMethodField()
    match_score = serializers.IntegerField(allow_null=True)
    applied_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    reject_reason = serializers.CharField()
    dispute_reason = serializers.CharField()
    resolution_note = serializers.CharField()

    def get_proof_files(self, obj) -> list[dict]:
        return [{"id": f.pk, "kind": f.kind, "content_type": f.content_type, "size": f.size, "sha256": f.sha256,
                 "download": f"/api/v1/tasks/proof-files/{f.pk}/"}
                for f in obj.proof_files.order_by("uploaded_at", "id")]


class PayableOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    task_id = serializers.IntegerField()
    assignment_id = serializers.IntegerField()
    member_id = serializers.IntegerField()
    quantity = serializers.DecimalField(max_digits=10, decimal_places=2)
    unit_price = YuanAmountField(source="unit_price_fen")
    amount = YuanAmountField(source="amount_fen")
    status = serializers.CharField()
    accepted_at = serializers.DateTimeField()


class MatchOutputSerializer(serializers.Serializer):
    member_id = serializers.IntegerField(source="member.pk")
    score = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())


class CategoryOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    pricing_modes = serializers.ListField(child=serializers.CharField())
    min_unit_price = YuanAmountField(source="min_unit_price_fen")
    max_unit_price = YuanAmountField(source="max_unit_price_fen")



class PartInputSerializer(serializers.Serializer):
    member_id = serializers.IntegerField(min_value=1)
    title = serializers.CharField(max_length=100)
    quantity = serializers.DecimalField(max_digits=10, decimal_places=2)

    def to_part(self, data) -> PartData:
        return PartData(member_id=data["member_id"], title=data["title"], quantity=data["quantity"])
