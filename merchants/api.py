"""Partner REST API of the enterprise side: own profile, configuration items and service agreements (PDF).

Authenticated by ``merchants.api_auth.MerchantSignatureAuthentication`` (or an enterprise staff session);
``IsEnterpriseStaff`` sets ``request.merchant``. Every read is scoped to that merchant.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsEnterpriseStaff
from core import money
from merchants import selectors
from merchants.documents import signed_pdf_response


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    extra = serializers.DictField()


class MerchantProfileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    uscc = serializers.CharField()
    status = serializers.CharField()
    status_display = serializers.CharField()
    industry = serializers.CharField(allow_blank=True)
    business_scenario = serializers.CharField(allow_blank=True)
    legal_rep_name_masked = serializers.CharField(allow_blank=True)
    contact_name_masked = serializers.CharField(allow_blank=True)
    contact_phone_masked = serializers.CharField(allow_blank=True)
    activated_at = serializers.DateTimeField(allow_null=True)
    topup_account_number = serializers.CharField(allow_blank=True, help_text="专属充值账号（来账识别）")
    topup_reference_code = serializers.CharField(allow_blank=True, help_text="转账附言识别码")
    available_balance = serializers.CharField(help_text="可用余额，元（字符串）")
    frozen_balance = serializers.CharField(help_text="冻结资金，元（字符串）")


class ConfigurationSerializer(serializers.Serializer):
    fee_rate = serializers.CharField(help_text="服务费率，小数（0.0600 = 6%）")
    fee_fixed = serializers.CharField(help_text="每笔固定费，元")
    fee_minimum = serializers.CharField(help_text="每笔最低服务费，元")
    fee_tiers = serializers.ListField(child=serializers.DictField())
    fee_bearer = serializers.CharField()
    fee_timing = serializers.CharField()
    tax_bearer = serializers.CharField()
    enabled_channels = serializers.ListField(child=serializers.CharField())
    single_payment_limit = serializers.CharField()
    worker_monthly_limit = serializers.CharField()
    daily_limit = serializers.CharField()
    second_approval_threshold = serializers.CharField()
    require_budget_cover = serializers.BooleanField()


class AgreementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    template_version = serializers.CharField()
    issued_at = serializers.DateTimeField()
    signed_at = serializers.DateTimeField(allow_null=True)
    sha256 = serializers.CharField(allow_blank=True, help_text="已签署 PDF 的 SHA-256")
    platform_signer = serializers.CharField(allow_blank=True)
    pdf_url = serializers.CharField(allow_null=True)


class TermsChangeSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="条款")
    before = serializers.CharField(help_text="原约定")
    after = serializers.CharField(help_text="变更后")


class TermsAmendmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField(help_text="PENDING 待企业签署 / SIGNED 已签署生效 / WITHDRAWN 已撤回")
    agreement_number = serializers.CharField(help_text="所补充的服务协议编号")
    reason = serializers.CharField(allow_blank=True)
    changes = serializers.DictField(help_text="变更的配置项：{字段: {before, after}}（费率为小数字符串，金额为分）")
    rows = TermsChangeSerializer(many=True, help_text="协议文本中的条款对照（中文）")
    proposed_at = serializers.DateTimeField()
    signed_at = serializers.DateTimeField(allow_null=True)
    sha256 = serializers.CharField(allow_blank=True, help_text="已签署 PDF 的 SHA-256")
    pdf_url = serializers.CharField(allow_null=True)


class MerchantProfileView(APIView):
    permission_classes = [IsEnterpriseStaff]

    @extend_schema(operation_id="merchant_profile", summary="本企业资料", tags=["企业"],
                   responses={200: MerchantProfileSerializer, 401: ErrorSerializer})
    def get(self, request):
        merchant = request.merchant
        application = selectors.merchant_application(merchant=merchant)
        topup = selectors.topup_account(merchant=merchant)
        balances = selectors.balances(merchant=merchant)
        data = {
            "id": merchant.pk, "name": merchant.name, "uscc": merchant.uscc, "status": merchant.status,
            "status_display": merchant.get_status_display(),
            "industry": application.industry if application else "",
            "business_scenario": application.business_scenario if application else "",
            "legal_rep_name_masked": application.legal_rep_name_masked if application else "",
            "contact_name_masked": application.contact_name_masked if application else "",
            "contact_phone_masked": application.contact_phone_masked if application else "",
            "activated_at": merchant.activated_at,
            "topup_account_number": topup.account_number if topup else "",
            "topup_reference_code": topup.reference_code if topup else "",
            "available_balance": money.format_yuan(balances["available_fen"]),
            "frozen_balance": money.format_yuan(balances["frozen_fen"]),
        }
        return Response(MerchantProfileSerializer(data).data)


class MerchantConfigurationView(APIView):
    permission_classes = [IsEnterpriseStaff]

    @extend_schema(operation_id="merchant_configuration", summary="本企业配置项（费率、通道、限额）", tags=["企业"],
                   responses={200: ConfigurationSerializer, 401: ErrorSerializer})
    def get(self, request):
        config = selectors.merchant_configuration(merchant=request.merchant)
        data = {
            "fee_rate": str(config.fee_rate), "fee_fixed": money.format_yuan(config.fee_fixed_fen),
            "fee_minimum": money.format_yuan(config.fee_minimum_fen), "fee_tiers": config.fee_tiers or [],
            "fee_bearer": config.fee_bearer, "fee_timing": config.fee_timing, "tax_bearer": config.tax_bearer,
            "enabled_channels": config.enabled_channels or [],
            "single_payment_limit": money.format_yuan(config.single_payment_limit_fen),
            "worker_monthly_limit": money.format_yuan(config.worker_monthly_limit_fen),
            "daily_limit": money.format_yuan(config.daily_limit_fen),
            "second_approval_threshold": money.format_yuan(config.second_approval_threshold_fen),
            "require_budget_cover": config.require_budget_cover,
        }
        return Response(ConfigurationSerializer(data).data)


def _agreement_data(request, agreement) -> dict:
    url = None
    if agreement.document_id:
        url = request.build_absolute_uri(f"/api/v1/merchant/agreements/{agreement.pk}/pdf/")
    return {"id": agreement.pk, "number": agreement.number, "status": agreement.status,
            "template_version": agreement.template_version, "issued_at": agreement.issued_at,
            "signed_at": agreement.signed_at, "sha256": agreement.sha256,
            "platform_signer": agreement.platform_signer, "pdf_url": url}


class AgreementListView(APIView):
    permission_classes = [IsEnterpriseStaff]

    @extend_schema(operation_id="merchant_agreements", summary="本企业的服务协议", tags=["企业"],
                   responses={200: AgreementSerializer(many=True), 401: ErrorSerializer})
    def get(self, request):
        rows = selectors.agreement_list(merchant=request.merchant)
        return Response([AgreementSerializer(_agreement_data(request, row)).data for row in rows])


class AgreementPdfView(APIView):
    permission_classes = [IsEnterpriseStaff]

    @extend_schema(operation_id="merchant_agreement_pdf", summary="下载已签署的服务协议 PDF（含平台数字签名）",
                   tags=["企业"], responses={(200, "application/pdf"): OpenApiTypes.BINARY,
                                             404: OpenApiResponse(ErrorSerializer, description="不存在或属于其他企业")})
    def get(self, request, agreement_id: int):
        agreement, content = selectors.agreement_pdf(merchant=request.merchant, agreement_id=agreement_id)
        return signed_pdf_response(content, filename=f"service-agreement-{agreement.number}.pdf",
                                   sha256=agreement.sha256)


def _amendment_data(request, amendment) -> dict:
    url = None
    if amendment.document_id:
        url = request.build_absolute_uri(f"/api/v1/merchant/terms-amendments/{amendment.pk}/pdf/")
    return {"id": amendment.pk, "number": amendment.number, "status": amendment.status,
            "agreement_number": amendment.agreement.number, "reason": amendment.reason, "changes": amendment.changes,
            "rows": amendment.rows, "proposed_at": amendment.proposed_at, "signed_at": amendment.signed_at,
            "sha256": amendment.sha256, "pdf_url": url}


class TermsAmendmentListView(APIView):
    permission_classes = [IsEnterpriseStaff]

    @extend_schema(operation_id="merchant_terms_amendments", summary="本企业的补充协议（商务条款变更）", tags=["企业"],
                   description="平台调整服务费率等商务条款时生成补充协议，企业管理员在企业端用短信验证码签署后生效；"
                               "此处列出待签署、已签署与已撤回的补充协议（最新在前）。",
                   responses={200: TermsAmendmentSerializer(many=True), 401: ErrorSerializer})
    def get(self, request):
        rows = selectors.terms_amendment_list(merchant=request.merchant)
        return Response([TermsAmendmentSerializer(_amendment_data(request, row)).data for row in rows])


class TermsAmendmentPdfView(APIView):
    permission_classes = [IsEnterpriseStaff]

    @extend_schema(operation_id="merchant_terms_amendment_pdf", summary="下载已签署的补充协议 PDF（含平台数字签名）",
                   tags=["企业"], responses={(200, "application/pdf"): OpenApiTypes.BINARY,
                                             404: OpenApiResponse(ErrorSerializer, description="不存在、未签署或属于其他企业")})
    def get(self, request, amendment_id: int):
        amendment, content = selectors.terms_amendment_pdf(merchant=request.merchant, amendment_id=amendment_id)
        return signed_pdf_response(content, filename=f"terms-amendment-{amendment.number}.pdf",
                                   sha256=amendment.sha256)
