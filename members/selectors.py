"""Reads of the members app. Other apps ask here whether a worker may work for (and be paid by) an enterprise, and
where to pay them. Enterprise reads are tenant-scoped: another enterprise's worker is "not found"."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count
from django.utils.translation import gettext as _

from core.exceptions import NotFound
from core.tenancy import get_for_tenant
from members.models import Agreement, Member, MemberMerchant, PayoutAccount


@dataclass(frozen=True)
class Eligibility:
    ok: bool
    missing: list[dict] = field(default_factory=list)  # [{"code", "message", "url"}], in the order to fix them


def member_for_user(*, user) -> Member | None:
    return Member.objects.filter(user=user).first()


def worker_eligibility(*, member: Member | None, merchant) -> Eligibility:
    """May ``member`` take tasks from and be paid by ``merchant``? If not, what is missing and where to fix it.

    A worker must be real-name verified on the platform and have signed the cooperation agreement with this enterprise
    (and not terminated it since: code ``terminated``).
    (Where to pay them is the payouts app's question: ``payout_account_default``.)
    """
    missing = []
    if member is None or not member.is_verified:
        missing.append({"code": "not_verified", "message": _("请先完成实名认证"), "url": "/m/verify/"})
    relationship = None
    if member is not None:
        relationship = (MemberMerchant.objects.for_tenant(merchant).filter(member=member)
                        .order_by("id").first())
    if relationship is not None and relationship.status == MemberMerchant.Status.TERMINATED:
        missing.append({"code": "terminated",
                        "message": _("已与“{kind}”解约，不能再承接其任务或收款").format(kind=merchant.name),
                        "url": "/m/enterprises/"})
    elif relationship is None or relationship.status != MemberMerchant.Status.SIGNED:
        missing.append({"code": "not_signed", "message": _("请先与“{kind}”签署合作协议").format(kind=merchant.name),
                        "url": "/m/agreements/"})
    return Eligibility(ok=not missing, missing=missing)


# --- Payout accounts (for the payouts app) -----------------------------------------------------------------------


def payout_account_list(*, member: Member) -> list[PayoutAccount]:
    """The member's active payout accounts, the default first."""
    return list(PayoutAccount.objects.filter(member=member, status=PayoutAccount.Status.ACTIVE)
                .order_by("-is_default", "id"))


def payout_account_default(*, member: Member) -> PayoutAccount | None:
    """The account payouts go to (``account`` holds the decrypted number, ``account_masked`` what to show)."""
    return (PayoutAccount.objects.filter(member=member, status=PayoutAccount.Status.ACTIVE, is_default=True)
            .order_by("id").first())


# --- Enterprise side (tenant-scoped) -----------------------------------------------------------------------------


def relationship_list(*, merchant, status: str | None = None):
    rows = MemberMerchant.objects.for_tenant(merchant).select_related("member", "member__user", "agreement")
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-created_at", "id")


def relationship_get(*, merchant, relationship_id) -> MemberMerchant:
    """One of ``merchant``'s workers; NotFound for a missing one and for another enterprise's."""
    return get_for_tenant(MemberMerchant.objects.select_related("member", "member__user", "merchant", "agreement"),
                          merchant=merchant, pk=relationship_id, message=_("未找到该人员"))


def relationship_status_counts(*, merchant) -> dict[str, int]:
    counts = {status: 0 for status in MemberMerchant.Status.values}
    for row in (MemberMerchant.objects.for_tenant(merchant).values("status").annotate(n=Count("id"))
                .order_by("status")):
        counts[row["status"]] = row["n"]
    return counts


def agreement_of(relationship: MemberMerchant) -> Agreement | None:
    """The relationship's signed agreement, if any (uses the select_related row when there is one)."""
    try:
        return relationship.agreement
    except Agreement.DoesNotExist:
        return None


def agreement_get_for_merchant(*, merchant, relationship_id) -> Agreement:
    relationship = relationship_get(merchant=merchant, relationship_id=relationship_id)
    agreement = agreement_of(relationship)
    if agreement is None:
        raise NotFound(_("该人员尚未签署合作协议"), code="agreement_not_found")
    return agreement


# --- Worker side --------------------------------------------------------------------------------------------------


def relationship_list_for_member(*, member: Member | None):
    if member is None:
        return MemberMerchant.objects.none()
    return (MemberMerchant.objects.filter(member=member).select_related("merchant")
            .order_by("-created_at", "id"))


def pending_invitations_for_user(*, user):
    """Invitations sent to the signed-in worker's phone that they have not accepted yet."""
    if not user.phone_index:
        return MemberMerchant.objects.none()
    return (MemberMerchant.objects.filter(invite_phone_index=user.phone_index, member__isnull=True,
                                          status=MemberMerchant.Status.INVITED)
            .select_related("merchant").order_by("-invited_at", "id"))


def agreement_list_for_member(*, member: Member | None):
    if member is None:
        return Agreement.objects.none()
    return (Agreement.objects.filter(member=member).select_related("relationship__merchant")
            .order_by("-signed_at", "id"))


def agreement_get_for_member(*, member: Member | None, agreement_id) -> Agreement:
    agreement = (Agreement.objects.filter(pk=agreement_id, member=member).select_related("relationship__merchant")
                 .first() if member is not None else None)
    if agreement is None:
        raise NotFound(_("未找到该协议"))
    return agreement
