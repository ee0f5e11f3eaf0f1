from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from merchants import api, views

enterprise_urlpatterns = [
    path("guide/", views.guide, name="merchants-guide"),
    path("apply/", views.apply_start, name="merchants-apply"),
    path("apply/company/", views.apply_company, name="merchants-apply-company"),
    path("apply/business/", views.apply_business, name="merchants-apply-business"),
    path("apply/licence/", views.apply_licence, name="merchants-apply-licence"),
    path("apply/submit/", views.apply_submit, name="merchants-apply-submit"),
    path("apply/status/", views.apply_status, name="merchants-apply-status"),
    path("apply/reopen/", views.apply_reopen, name="merchants-apply-reopen"),
    path("documents/<int:document_id>/", views.document_download, name="merchants-document"),
    path("agreement/", views.agreement, name="merchants-agreement"),
    path("agreement/preview.pdf", views.agreement_preview, name="merchants-agreement-preview"),
    path("agreement/code/", views.agreement_send_code, name="merchants-agreement-code"),
    path("agreement/sign/", views.agreement_sign, name="merchants-agreement-sign"),
    path("agreements/<int:agreement_id>/pdf/", views.agreement_pdf, name="merchants-agreement-pdf"),
    path("agreement/amendment/preview.pdf", views.terms_amendment_preview, name="merchants-amendment-preview"),
    path("agreement/amendment/code/", views.terms_amendment_send_code, name="merchants-amendment-code"),
    path("agreement/amendment/sign/", views.terms_amendment_sign, name="merchants-amendment-sign"),
    path("amendments/<int:amendment_id>/pdf/", views.terms_amendment_pdf, name="merchants-amendment-pdf"),
    path("account/", views.account, name="merchants-account"),
    path("account/change/", views.account_change, name="merchants-account-change"),
    path("account/close/", views.account_close, name="merchants-account-close"),
    path("account/changes/<int:change_id>/withdraw/", views.account_change_withdraw,
         name="merchants-account-change-withdraw"),
    path("staff/", views.staff, name="merchants-staff"),
    path("staff/<int:user_id>/deactivate/", views.staff_deactivate, name="merchants-staff-deactivate"),
    path("invite/<str:token>/", views.invite_accept, name="merchants-invite"),
    path("api-keys/", views.api_keys, name="merchants-api-keys"),
    path("api-keys/<str:key_id>/revoke/", views.api_key_revoke, name="merchants-api-key-revoke"),
]

api_urlpatterns = [
    path("merchant/", api.MerchantProfileView.as_view(), name="merchants-profile"),
    path("merchant/configuration/", api.MerchantConfigurationView.as_view(), name="merchants-configuration"),
    path("merchant/agreements/", api.AgreementListView.as_view(), name="merchants-agreements"),
    path("merchant/agreements/<int:agreement_id>/pdf/", api.AgreementPdfView.as_view(),
         name="merchants-agreement-pdf"),
    path("merchant/terms-amendments/", api.TermsAmendmentListView.as_view(), name="merchants-terms-amendments"),
    path("merchant/terms-amendments/<int:amendment_id>/pdf/", api.TermsAmendmentPdfView.as_view(),
         name="merchants-terms-amendment-pdf"),
]

enterprise_nav = [
    (5, gettext_lazy("入驻申请"), "enterprise:merchants-apply-status"),
    (80, gettext_lazy("企业账户"), "enterprise:merchants-account"),
    (81, gettext_lazy("服务协议"), "enterprise:merchants-agreement"),
    (82, gettext_lazy("员工管理"), "enterprise:merchants-staff"),
    (83, gettext_lazy("API 密钥"), "enterprise:merchants-api-keys"),
    (99, gettext_lazy("操作指南"), "enterprise:merchants-guide"),
]


def enterprise_home_cards(request) -> list[dict]:
    from merchants.models import Merchant

    merchant = getattr(request, "merchant", None)
    if merchant is None:
        return []
    notes = {
        Merchant.Status.APPLYING: _("入驻申请办理中：请在“入驻申请”查看进度"),
        Merchant.Status.REJECTED: _("入驻申请未通过，原因见“入驻申请”"),
        Merchant.Status.APPROVED: _("审核已通过：请在“服务协议”签署"),
        Merchant.Status.SIGNED: _("已签约，正在开户"),
        Merchant.Status.ACTIVE: _("账户已开通"),
        Merchant.Status.SUSPENDED: _("账户已冻结，请联系客服"),
        Merchant.Status.CLOSED: _("账户已注销"),
    }
    note = notes.get(merchant.status, "")
    from merchants.selectors import terms_amendment_pending

    if merchant.status in (Merchant.Status.ACTIVE, Merchant.Status.SUSPENDED) and terms_amendment_pending(
            merchant=merchant):
        note = _("服务费等商务条款变更：请在“服务协议”签署补充协议")
    return [{"label": _("入驻状态"), "value": merchant.get_status_display(), "note": note}]
