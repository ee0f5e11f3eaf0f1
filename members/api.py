"""Partner API for workers: invite (create) and query workers, their verification result, the signing link and state,
and the signed agreement PDF. Tenant-scoped by ``IsEnterpriseStaff`` (request.merchant); another enterprise's
worker is 404. Personal data is returned masked only."""

from __future__ import annotations

from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.exceptions import RoleRequired
from accounts.models import User
from accounts.permissions import IsEnterpriseStaff, can
from core.api import idempotent
from core.exceptions import ValidationFailed
from members import selectors, services
from members.models import MemberMerchant

ERROR = inline_serializer("MembersError", fields={"code": serializers.CharField(), "message": serializers.CharField(),
                                                   "extra": serializers.DictField()})


class WorkerInviteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=40, help_text="身份证上的姓名")
    id_number = serializers.CharField(max_length=30, help_text="18 位居民身份证号码")
    phone = serializers.CharField(max_length=20, help_text="中国大陆手机号，邀请短信发往此号码")


class VerificationSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["UNVERIFIED", "VERIFIED", "FAILED"])
    method = serializers.CharField(allow_blank=True)
    verified_at = serializers.DateTimeField(allow_null=True)
    failure_reason = serializers.CharField(allow_blank=True, help_text="未通过时的原因（供提示人员）")


class SigningSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["NOT_READY", "READY", "SIGNED", "TERMINATED"],
                                     help_text="NOT_READY: 未注册或未实名；READY: 可签署；SIGNED: 已签署；TERMINATED: 已解约")
    sign_url = serializers.CharField(allow_blank=True, help_text="发给人员的签约链接（登录后完成实名与签署）")
    signed_at = serializers.DateTimeField(allow_null=True)
    agreement_number = serializers.CharField(allow_blank=True)
    agreement_sha256 = serializers.CharField(allow_blank=True)
    agreement_method = serializers.CharField(allow_blank=True)
    terminated_at = serializers.DateTimeField(allow_null=True, help_text="解约时间（已解约时）")
    terminated_by = serializers.CharField(allow_blank=True, help_text="解约方：ENTERPRISE 企业 / WORKER 人员（已解约时）")


class WorkerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=MemberMerchant.Status.values)
    status_display = serializers.CharField()
    name = serializers.CharField(help_text="脱敏")
    phone = serializers.CharField(help_text="脱敏")
    id_number = serializers.CharField(help_text="脱敏")
    source = serializers.CharField()
    invited_at = serializers.DateTimeField(allow_null=True)
    verification = VerificationSerializer()
    signing = SigningSerializer()


def verification_data(relationship: MemberMerchant) -> dict:
    member = relationship.member
    if member is None:
        return {"status": "UNVERIFIED", "method": "", "verified_at": None, "failure_reason": ""}
    return {"status": member.verification_status, "method": member.verification_method,
            "verified_at": member.verified_at, "failure_reason": member.failure_reason}


def signing_data(relationship: MemberMerchant) -> dict:
    agreement = selectors.agreement_of(relationship)
    status = {"SIGNED": "SIGNED", "TERMINATED": "TERMINATED", "VERIFIED": "READY"}.get(relationship.status, "NOT_READY")
    return {
        "status": status,
        "sign_url": services.invite_link(relationship) if relationship.invite_token and status != "SIGNED" else "",
        "signed_at": relationship.signed_at,
        "agreement_number": agreement.number if agreement else "",
        "agreement_sha256": agreement.sha256 if agreement else "",
        "agreement_method": agreement.method if agreement else "",
        "terminated_at": relationship.terminated_at,
        "terminated_by": relationship.terminated_by_side or "",
    }


def worker_data(relationship: MemberMerchant) -> dict:
    return WorkerSerializer(_worker_dict(relationship)).data


def _worker_dict(relationship: MemberMerchant) -> dict:
    return {
        "id": relationship.pk, "status": relationship.status, "status_display": relationship.get_status_display(),
        "name": relationship.invite_name_masked, "phone": relationship.invite_phone_masked,
        "id_number": relationship.invite_id_number_masked, "source": relationship.source,
        "invited_at": relationship.invited_at, "verification": verification_data(relationship),
        "signing": signing_data(relationship),
    }


def _actor(request):
    """The staff user of a session request, or the API key (``ApiClient``) of a signed request — audited by its key id."""
    return request.user


class WorkerListCreateView(GenericAPIView):
    permission_classes = [IsEnterpriseStaff]
    serializer_class = WorkerSerializer

    @extend_schema(
        summary="查询人员列表", tags=["workers"],
        parameters=[OpenApiParameter("status", str, enum=MemberMerchant.Status.values, required=False)],
        responses=WorkerSerializer(many=True),
    )
    def get(self, request):
        status = request.query_params.get("status") or None
        if status is not None and status not in MemberMerchant.Status.values:
            raise ValidationFailed(_("status 只能是 {value} 之一").format(value=', '.join(MemberMerchant.Status.values)), extra={"field": "status"})
        rows = selectors.relationship_list(merchant=request.merchant, status=status)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response([worker_data(r) for r in page])

    @extend_schema(
        summary="邀请人员（创建人员）", tags=["workers"], request=WorkerInviteSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=True)],
        responses={201: WorkerSerializer, 400: ERROR, 409: OpenApiResponse(ERROR, description="already_invited")},
        description="校验姓名、身份证号（含年龄限制）和手机号后发送邀请短信。重复邀请同一身份证号或手机号返回 409 already_invited。",
    )
    @idempotent("members.worker_invite")
    def post(self, request):
        actor = _actor(request)
        if isinstance(actor, User) and not can(actor, "manage_workers"):
            raise RoleRequired(_("您的角色无权邀请人员，请联系企业管理员或经办人"))
        data = WorkerInviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        relationship = services.worker_invite(merchant=request.merchant, actor=actor, now=timezone.now(),
                                              source=MemberMerchant.Source.API, **data.validated_data)
        return Response(worker_data(relationship), status=201)


class WorkerDetailView(GenericAPIView):
    permission_classes = [IsEnterpriseStaff]
    serializer_class = WorkerSerializer

    @extend_schema(summary="查询人员", tags=["workers"], responses={200: WorkerSerializer, 404: ERROR})
    def get(self, request, worker_id: int):
        return Response(worker_data(selectors.relationship_get(merchant=request.merchant, relationship_id=worker_id)))


class WorkerVerificationView(GenericAPIView):
    permission_classes = [IsEnterpriseStaff]
    serializer_class = VerificationSerializer

    @extend_schema(summary="查询实名认证结果", tags=["workers"], responses={200: VerificationSerializer, 404: ERROR})
    def get(self, request, worker_id: int):
        relationship = selectors.relationship_get(merchant=request.merchant, relationship_id=worker_id)
        return Response(VerificationSerializer(verification_data(relationship)).data)


class WorkerSigningView(GenericAPIView):
    permission_classes = [IsEnterpriseStaff]
    serializer_class = SigningSerializer

    @extend_schema(summary="查询签约链接与签约状态", tags=["workers"], responses={200: SigningSerializer, 404: ERROR})
    def get(self, request, worker_id: int):
        relationship = selectors.relationship_get(merchant=request.merchant, relationship_id=worker_id)
        return Response(SigningSerializer(signing_data(relationship)).data)


class WorkerAgreementView(GenericAPIView):
    permission_classes = [IsEnterpriseStaff]

    @extend_schema(summary="下载已签署的合作协议 PDF", tags=["workers"],
                   responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: ERROR})
    def get(self, request, worker_id: int):
        agreement = selectors.agreement_get_for_merchant(merchant=request.merchant, relationship_id=worker_id)
        extension = agreement.file.name.rsplit(".", 1)[-1]
        return FileResponse(agreement.file.open("rb"), content_type=agreement.content_type, as_attachment=True,
                            filename=f"agreement-{agreement.number}.{extension}")
