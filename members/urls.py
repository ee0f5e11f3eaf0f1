"""URLs of the members app: the worker's mobile pages, the enterprise's worker pages and the partner API."""

from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from members import api, selectors
from members.models import MemberMerchant
from members.portal import enterprise, mobile

member_urlpatterns = [
    path("me/", mobile.me, name="members-me"),
    path("verify/", mobile.verify, name="members-verify"),
    path("enterprises/", mobile.enterprises, name="members-enterprises"),
    path("invite/<str:token>/", mobile.invitation, name="members-invitation"),
    path("agreements/", mobile.agreements, name="members-agreements"),
    path("agreements/sign/<int:relationship_id>/", mobile.agreement_sign, name="members-sign"),
    path("agreements/sign/<int:relationship_id>/code/", mobile.agreement_sign_code, name="members-sign-code"),
    path("agreements/<int:agreement_id>/download/", mobile.agreement_download, name="members-agreement-download"),
    path("enterprises/<int:relationship_id>/terminate/", mobile.relationship_terminate, name="members-terminate"),
    path("accounts/", mobile.accounts, name="members-accounts"),
]

enterprise_urlpatterns = [
    path("workers/", enterprise.workers, name="members-workers"),
    path("workers/invite/", enterprise.worker_invite, name="members-invite"),
    path("workers/upload/", enterprise.worker_upload, name="members-upload"),
    path("workers/template.<str:fmt>", enterprise.worker_template, name="members-template"),
    path("workers/<int:relationship_id>/remind/", enterprise.worker_remind, name="members-remind"),
    path("workers/<int:relationship_id>/agreement/", enterprise.worker_agreement, name="members-agreement"),
    path("workers/<int:relationship_id>/terminate/", enterprise.worker_terminate, name="members-terminate"),
]

api_urlpatterns = [
    path("workers/", api.WorkerListCreateView.as_view(), name="members-workers"),
    path("workers/<int:worker_id>/", api.WorkerDetailView.as_view(), name="members-worker"),
    path("workers/<int:worker_id>/verification/", api.WorkerVerificationView.as_view(), name="members-verification"),
    path("workers/<int:worker_id>/signing/", api.WorkerSigningView.as_view(), name="members-signing"),
    path("workers/<int:worker_id>/agreement.pdf", api.WorkerAgreementView.as_view(), name="members-agreement"),
]

# One tab ("我的") keeps the phone's tab bar short; the page links verification, agreements, enterprises, accounts.
member_nav = [(90, _("我的"), "m:members-me")]
enterprise_nav = [(20, _("灵工人员"), "enterprise:members-workers")]


def member_home_cards(request) -> list[dict]:
    member = selectors.member_for_user(user=request.user)
    cards = []
    invitations = selectors.pending_invitations_for_user(user=request.user).count()
    if invitations:
        cards.append({"label": _("企业邀请"), "note": gettext("{invitations} 家企业邀请您加入，点此查看并接受").format(invitations=invitations),
                      "url": reverse("m:members-enterprises")})
    if member is None or not member.is_verified:
        note = gettext("上次未通过：{failure_reason}").format(failure_reason=member.failure_reason) if member and member.failure_reason else gettext("完成实名后才能签约、接单和收款")
        cards.append({"label": _("实名认证"), "note": note, "url": reverse("m:members-verify")})
        return cards
    to_sign = selectors.relationship_list_for_member(member=member).filter(status=MemberMerchant.Status.VERIFIED).count()
    if to_sign:
        cards.append({"label": _("待签协议"), "note": gettext("{to_sign} 份合作协议待签署").format(to_sign=to_sign), "url": reverse("m:members-agreements")})
    if selectors.payout_account_default(member=member) is None:
        cards.append({"label": _("收款账户"), "note": gettext("请添加收款账户"), "url": reverse("m:members-accounts")})
    return cards


def enterprise_home_cards(request) -> list[dict]:
    counts = selectors.relationship_status_counts(merchant=request.merchant)
    waiting = counts["INVITED"] + counts["REGISTERED"] + counts["VERIFIED"]
    return [{"label": _("已签约人员"), "value": counts["SIGNED"], "note": gettext("另有 {waiting} 人未完成签约").format(waiting=waiting)}]
