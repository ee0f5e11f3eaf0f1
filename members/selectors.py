"""Reads of the members app. Other apps ask here whether a worker may work for (and be paid by) an enterprise."""

from __future__ import annotations

from dataclasses import dataclass, field

from members.models import Member, MemberMerchant


@dataclass(frozen=True)
class Eligibility:
    ok: bool
    missing: list[dict] = field(default_factory=list)  # [{"code", "message", "url"}], in the order to fix them


def member_for_user(*, user) -> Member | None:
    return Member.objects.filter(user=user).first()


def worker_eligibility(*, member: Member | None, merchant) -> Eligibility:
    """May ``member`` take tasks from and be paid by ``merchant``? If not, what is missing and where to fix it.

    A worker must be real-name verified on the platform and have signed the cooperation agreement with this enterprise.
    """
    missing = []
    if member is None or not member.is_verified:
        missing.append({"code": "not_verified", "message": "请先完成实名认证", "url": "/m/verify/"})
    relationship = None
    if member is not None:
        relationship = (MemberMerchant.objects.for_tenant(merchant).filter(member=member)
                        .order_by("id").first())
    if relationship is None or relationship.status != MemberMerchant.Status.SIGNED:
        missing.append({"code": "not_signed", "message": f"请先与“{merchant.name}”签署合作协议",
                        "url": "/m/agreements/"})
    return Eligibility(ok=not missing, missing=missing)
