"""Demo workers: thirteen phone-registered accounts in every onboarding state.

- 13800000001 … 13800000009: verified (four factors), default bank card, cooperation agreements signed online with
  both demo enterprises — except 13800000009, registered with 北京云测 offline (paper contract), online with 天津快送;
  13800000001 also has an Alipay account.
- 13800000010: invited by 天津快送 only (has not accepted yet: the invitation shows on “我的企业”).
- 13800000011: accepted 天津快送's invitation, not verified yet (registered).
- 13800000012: accepted 北京云测's invitation, verification failed (姓名与身份证号不一致).
- 13800000013: verified and signed with 天津快送, then terminated by 天津快送 (解约: the project ended); the
  relationship and the agreement show 已解约, and the worker cannot be paid or given tasks by 天津快送 any more.
Loaded after merchants (config.urls.DOMAIN_APPS order); idempotent.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from accounts.models import Kind, Role, User
from core.documents import render_pdf
from core.pii import blind_index
from core.validators import id_check_char
from members.exceptions import VerificationFailed
from members.models import Agreement, Member, MemberMerchant, PayoutAccount
from members.services import (
    invitation_accept,
    member_register_offline,
    member_verify,
    payout_account_add,
    relationship_terminate,
    worker_invite,
)
from members.services.agreements import AGREEMENT_TEMPLATES, CURRENT_TEMPLATE, agreement_context, agreement_seal

DEMO_WORKERS = [
    ("13800000001", "张伟"), ("13800000002", "王芳"), ("13800000003", "李娜"), ("13800000004", "刘洋"),
    ("13800000005", "陈静"), ("13800000006", "杨磊"), ("13800000007", "赵敏"), ("13800000008", "黄强"),
    ("13800000009", "周婷"), ("13800000010", "吴军"), ("13800000011", "徐丽"), ("13800000012", "孙涛"),
    ("13800000013", "郑洁"),
]
_FEMALE = {"王芳", "李娜", "陈静", "赵敏", "周婷", "徐丽", "郑洁"}
TERMINATED_INDEX = 13
TERMINATION_REASON = "门店促销项目结束，双方协商解约"
DEMO_MERCHANT_NAMES = ["天津快送同城配送有限公司", "北京云测数据科技有限公司"]
DEMO_IP = "127.0.0.1"


def demo_id_number(index: int, name: str) -> str:
    """A valid resident ID number (Tianjin Heping district, born 1985–1996); the 顺序码's last digit gives the sex.
    Worker 12's 顺序码 is 444, which the sandbox answers with 姓名与身份证号不一致."""
    birth = dt.date(1985 + index - 1, (index % 12) + 1, 10 + index)
    sequence = "444" if index == 12 else f"{index:02d}{(2 if name in _FEMALE else 1) + 2 * (index % 4)}"
    body = f"120101{birth:%Y%m%d}{sequence}"
    return body + id_check_char(body)


def demo_bank_card(index: int) -> str:
    return f"6222020200{index:09d}"


def _merchants() -> list:
    from merchants.models import Merchant

    found = {m.name: m for m in Merchant.objects.filter(name__in=DEMO_MERCHANT_NAMES).order_by("id")}
    return [found[name] for name in DEMO_MERCHANT_NAMES if name in found]


def _admin_of(merchant):
    return User.objects.filter(merchant=merchant, role=Role.ENT_ADMIN).order_by("id").first()


def _relationship(merchant, member, user, name, id_number, phone, now):
    relationship = MemberMerchant.objects.for_tenant(merchant).filter(member=member).first() if member else None
    relationship = relationship or MemberMerchant.objects.for_tenant(merchant).filter(
        invite_phone_index=blind_index(phone, purpose="phone")).first()
    if relationship is None:
        relationship = worker_invite(merchant=merchant, name=name, id_number=id_number, phone=phone,
                                     actor=_admin_of(merchant), now=now)
    if relationship.member_id is None and user is not None:
        relationship = invitation_accept(user=user, token=relationship.invite_token, now=now, ip=DEMO_IP)
    return relationship


def _terminated(merchant, member, user, name, id_number, phone, now) -> None:
    """Signed, then ended by the enterprise (解约) a day later; left alone once terminated."""
    relationship = _relationship(merchant, member, user, name, id_number, phone, now - dt.timedelta(days=20))
    if relationship.status == MemberMerchant.Status.TERMINATED:
        return
    if not Agreement.objects.filter(relationship=relationship).exists():
        agreement_seal(user=user, member=member, relationship=relationship, now=now - dt.timedelta(days=20),
                       ip=DEMO_IP)
    relationship_terminate(merchant=merchant, relationship_id=relationship.pk, actor=_admin_of(merchant),
                           now=now - dt.timedelta(days=1), reason=TERMINATION_REASON, ip=DEMO_IP)


def _paper_contract(merchant, member, now) -> bytes:
    relationship = MemberMerchant(merchant=merchant, pk=0)
    context = agreement_context(relationship=relationship, member=member)
    context["signing"] = {"at": now, "ip": "线下", "phone": "-", "method": "纸质合同手写签字（扫描件）"}
    return render_pdf(AGREEMENT_TEMPLATES[CURRENT_TEMPLATE]["pdf"], context).content


@transaction.atomic
def load(*, now) -> list[str]:
    merchants = _merchants()
    for index, (phone, name) in enumerate(DEMO_WORKERS, start=1):
        user = User.objects.filter(phone_index=blind_index(phone, purpose="phone")).first()
        if user is None:
            user = User.objects.create_user(f"demo_worker_{index:02d}", role=Role.WORKER, kind=Kind.WORKER,
                                            phone=phone, full_name=name if index <= 9 or index == TERMINATED_INDEX else "")
        id_number = demo_id_number(index, name)
        member = Member.objects.filter(user=user).first()
        if index <= 9:
            if member is None or not member.is_verified:
                member = member_verify(user=user, name=name, id_number=id_number, bank_card=demo_bank_card(index),
                                       bank_name="中国工商银行", now=now, ip=DEMO_IP)
            if index == 1 and not PayoutAccount.objects.filter(member=member, kind=PayoutAccount.Kind.ALIPAY).exists():
                payout_account_add(member=member, kind=PayoutAccount.Kind.ALIPAY, account=phone, actor=user, now=now,
                                   ip=DEMO_IP)
            for merchant in merchants:
                if index == 9 and merchant.name == DEMO_MERCHANT_NAMES[1]:
                    if not MemberMerchant.objects.for_tenant(merchant).filter(member=member).exists():
                        member_register_offline(
                            merchant=merchant, name=name, id_number=id_number, phone=phone,
                            contract_filename="周婷-纸质合作协议.pdf",
                            contract_content=_paper_contract(merchant, member, now),
                            signed_on=now.date() - dt.timedelta(days=3), actor=_admin_of(merchant), now=now,
                        )
                    continue
                relationship = _relationship(merchant, member, user, name, id_number, phone, now)
                if not Agreement.objects.filter(relationship=relationship).exists():
                    agreement_seal(user=user, member=member, relationship=relationship, now=now, ip=DEMO_IP)
        elif index == TERMINATED_INDEX:
            if member is None or not member.is_verified:
                member = member_verify(user=user, name=name, id_number=id_number, bank_card=demo_bank_card(index),
                                       bank_name="中国工商银行", now=now - dt.timedelta(days=21), ip=DEMO_IP)
            if merchants:
                _terminated(merchants[0], member, user, name, id_number, phone, now)
        elif merchants:
            merchant = merchants[0] if index in (10, 11) or len(merchants) == 1 else merchants[1]
            _relationship(merchant, member, None if index == 10 else user, name, id_number, phone, now)
            if index == 12:
                member = Member.objects.get(user=user)
                if member.verification_status == Member.Verification.UNVERIFIED:
                    try:
                        member_verify(user=user, name=name, id_number=id_number, bank_card=demo_bank_card(index),
                                      now=now, ip=DEMO_IP)
                    except VerificationFailed:
                        pass  # the demo shows the refusal and its reason on /m/verify/
    return [
        f"灵工人员端 /m/  手机号 {DEMO_WORKERS[0][0]} … {DEMO_WORKERS[-1][0]}（共 {len(DEMO_WORKERS)} 人），"
        "点“获取验证码”，演示沙箱会在页面上显示验证码（运营后台“短信发件箱”也可查看）",
        "  …0001–…0009 已实名、已签约（…0009 与北京云测为线下纸质合同）；…0010 仅受邀；…0011 已注册未实名；"
        "…0012 实名未通过；…0013 已与天津快送解约（企业端“人员”列表显示已解约）。沙箱测试数据见 docs/guide-worker.md 附录",
    ]
