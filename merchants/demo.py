"""Demo enterprises, created through the same services a real enterprise goes through.

- 天津快送同城配送有限公司 (kuaisong_*) and 北京云测数据科技有限公司 (yunce_*): applied, verified, approved, agreement
  signed with an SMS code and sealed, accounts opened, configuration set; finance and operator staff joined through
  invitations. 快送: fee before the transaction, tax borne by the worker; 云测: fee during, tax borne by the enterprise.
- 天津蓝鲸家政服务有限公司 (lanjing_admin): submitted, waiting in the review queue (/ops/merchants/merchantapplication/).
- 天津速达劳务信息咨询有限公司 (suda_admin): rejected (labour dispatch is not a gig-work scenario).
- An API key for 快送, printed once when it is created.
- A 补充协议 for 快送 waiting for kuaisong_admin's signature: operations lowered the fee (6.00% → 5.50%, tiers lowered
  by the same) after the agreement was signed; the new fee applies once it is signed in the portal.
"""

from __future__ import annotations

import logging

from django.db import transaction

from accounts.demo import DEMO_PASSWORD
from accounts.models import Role, User
from core import ratelimit
from core.documents import render_html_to_pdf
from core.pii import blind_index
from core.validators import uscc_check_char
from merchants import services
from merchants.models import ApiKey, Merchant, MerchantApplication, TermsAmendment

logger = logging.getLogger(__name__)


def demo_uscc(body17: str) -> str:
    return body17 + uscc_check_char(body17)


DEMO_MERCHANTS = [
    # (login prefix, name, USCC body)
    ("kuaisong", "天津快送同城配送有限公司", "91120116MA06K8QX1"),
    ("yunce", "北京云测数据科技有限公司", "91110108MA01YC7T2"),
]

PROFILES = {
    "kuaisong": {
        "phone": "13600000101", "full_name": "王建国", "legal_rep_name": "王建国",
        "legal_rep_id_number": "12010119800101001", "contact_name": "刘晓燕", "contact_phone": "13600000102",
        "contact_email": "ops@kuaisong.example", "registered_address": "天津市滨海新区中新生态城中成大道 1 号",
        "industry": "LOGISTICS", "business_scenario": "同城即时配送：骑手在平台接单，完成门店到顾客的取送货，按单结算服务费。",
        "expected_monthly_volume": "800000.00", "expected_monthly_workers": 400,
        "config": {"fee_rate": "0.0600", "fee_fixed_fen": 0, "fee_minimum_fen": 100, "fee_bearer": "MERCHANT",
                   "fee_timing": "BEFORE", "tax_bearer": "WORKER", "enabled_channels": ["BANK", "ALIPAY", "WECHAT"],
                   "fee_tiers": [{"from_fen": 0, "rate": "0.0600"}, {"from_fen": 100_000_000, "rate": "0.0550"}]},
    },
    "yunce": {
        "phone": "13600000201", "full_name": "陈思远", "legal_rep_name": "陈思远",
        "legal_rep_id_number": "11010819850315002", "contact_name": "周敏", "contact_phone": "13600000202",
        "contact_email": "hr@yunce.example", "registered_address": "北京市海淀区中关村大街 27 号",
        "industry": "INFORMATION", "business_scenario": "数据标注与内容审核：灵工人员在线完成图片、语音标注任务，按件验收结算。",
        "expected_monthly_volume": "300000.00", "expected_monthly_workers": 150,
        "config": {"fee_rate": "0.0650", "fee_fixed_fen": 50, "fee_minimum_fen": 0, "fee_bearer": "MERCHANT",
                   "fee_timing": "DURING", "tax_bearer": "MERCHANT", "enabled_channels": ["BANK", "ALIPAY", "WECHAT"]},
    },
}

# Proposed once, after 快送 signed: a new user finds a 补充协议 to sign (re-runs leave it, or its outcome, alone).
KUAISONG_FEE_CHANGE = {"fee_rate": "0.0550",
                       "fee_tiers": [{"from_fen": 0, "rate": "0.0550"}, {"from_fen": 100_000_000, "rate": "0.0500"}]}
KUAISONG_FEE_CHANGE_REASON = "月度付款量提升，费率下调"

OTHERS = [
    # (login, name, USCC body, phone, scenario, industry, outcome)
    ("lanjing_admin", "天津蓝鲸家政服务有限公司", "91120104MA07LJ3K5", "13600000301",
     "上门家政保洁：保洁员按预约上门完成保洁服务，按单结算。", "LIFE_SERVICE", "SUBMITTED"),
    ("suda_admin", "天津速达劳务信息咨询有限公司", "91120105MA08TD4P6", "13600000401",
     "劳务派遣：向用工单位派遣人员并代发工资。", "OTHER", "REJECTED"),
]


def _id_number(body17: str) -> str:
    from core.validators import id_check_char

    return body17 + id_check_char(body17)


def _licence_pdf(name: str, uscc: str) -> bytes:
    html = ('<!doctype html><html><head><meta charset="utf-8"><style>body{font-family:"WenQuanYi Micro Hei",'
            '"Noto Sans CJK SC",sans-serif;text-align:center;padding-top:80px}</style></head><body>'
            f"<h1>营业执照（演示）</h1><p>名称：{name}</p><p>统一社会信用代码：{uscc}</p>"
            "<p>本文件仅用于演示，不具有任何法律效力。</p></body></html>")
    return render_html_to_pdf(html)


def _reviewer():
    return User.objects.filter(username="ops_reviewer").first() or User.objects.filter(is_superuser=True).first()


def _apply(*, username: str, name: str, uscc: str, phone: str, full_name: str, now, **fields) -> MerchantApplication:
    application = services.merchant_application_start(company_name=name, uscc=uscc, username=username,
                                                      password=DEMO_PASSWORD, phone=phone, full_name=full_name,
                                                      now=now)
    application = services.merchant_application_update(application=application, actor=application.applicant,
                                                       now=now, step=3, **fields)
    services.merchant_application_upload_licence(application=application, actor=application.applicant,
                                                 content=_licence_pdf(name, uscc), name="营业执照.pdf", now=now)
    return services.merchant_application_submit(application=application, actor=application.applicant, now=now)


def _onboard(prefix: str, name: str, uscc: str, now, reviewer) -> Merchant:
    profile = PROFILES[prefix]
    fields = {k: v for k, v in profile.items() if k not in ("phone", "full_name", "config")}
    fields["legal_rep_id_number"] = _id_number(fields["legal_rep_id_number"])
    application = _apply(username=f"{prefix}_admin", name=name, uscc=uscc, phone=profile["phone"],
                         full_name=profile["full_name"], now=now, **fields)
    merchant, admin = application.merchant, application.applicant
    services.merchant_configuration_set(merchant=merchant, actor=reviewer, now=now, **profile["config"])
    services.merchant_application_approve(application=application, actor=reviewer, now=now, note="演示数据")
    # The loader is not a user at the door: the SMS limits of the demo signatory's phone (which people also use to
    # try the portal) must not stop a first start.
    ratelimit.reset("sms_code_send_phone", blind_index(admin.phone, purpose="phone"))
    code = services.service_agreement_send_code(merchant=merchant, actor=admin, now=now).plain_code
    services.service_agreement_sign(merchant=merchant, actor=admin, code=code, now=now, ip="127.0.0.1")
    for suffix, role in (("finance", Role.ENT_FINANCE), ("ops", Role.ENT_OPERATOR)):
        _, token = services.staff_invite(merchant=merchant, actor=admin, role=role, email=f"{prefix}_{suffix}@example.com",
                                         now=now)
        services.staff_invitation_accept(token=token, username=f"{prefix}_{suffix}", password=DEMO_PASSWORD, now=now)
    merchant.refresh_from_db()
    return merchant


def _propose_fee_change(merchant: Merchant, reviewer, now) -> list[str]:
    """Operations lower 快送's fee after it signed: the change waits as a 补充协议 for the enterprise's signature."""
    from merchants.services.amendment import signed_agreement

    amendment = TermsAmendment.objects.filter(merchant=merchant).order_by("id").first()
    # a database from before onboarding has no signed agreement: its fees are left as they are
    if amendment is None and reviewer is not None and signed_agreement(merchant) is not None:
        config = services.merchant_configuration_set(merchant=merchant, actor=reviewer, now=now,
                                                     reason=KUAISONG_FEE_CHANGE_REASON, **KUAISONG_FEE_CHANGE)
        amendment = config.proposed_amendment
    if amendment is None or amendment.status != TermsAmendment.Status.PENDING:
        return []
    return [f"快送待签署补充协议 {amendment.number}（服务费率 6.00% → 5.50%）：kuaisong_admin 在 /enterprise/agreement/ "
            "用短信验证码签署后生效"]


def _legacy_staff(prefix: str, merchant: Merchant) -> None:
    """A database from before onboarding existed: keep its merchant and make sure the three logins exist."""
    for suffix, role in (("admin", Role.ENT_ADMIN), ("finance", Role.ENT_FINANCE), ("ops", Role.ENT_OPERATOR)):
        username = f"{prefix}_{suffix}"
        if not User.objects.filter(username=username).exists():
            User.objects.create_user(username, DEMO_PASSWORD, role=role, merchant=merchant,
                                     email=f"{username}@example.com")


@transaction.atomic
def load(*, now) -> list[str]:
    lines = []
    reviewer = _reviewer()
    for prefix, name, body in DEMO_MERCHANTS:
        uscc = demo_uscc(body)
        merchant = Merchant.objects.filter(uscc=uscc).first()
        if merchant is None:
            merchant = _onboard(prefix, name, uscc, now, reviewer)
        elif not MerchantApplication.objects.filter(merchant=merchant).exists():
            _legacy_staff(prefix, merchant)
        lines.append(f"企业端 /enterprise/  {name}（{merchant.get_status_display()}）："
                     f"{prefix}_admin / {prefix}_finance / {prefix}_ops  密码 {DEMO_PASSWORD}")

    for username, name, body, phone, scenario, industry, outcome in OTHERS:
        uscc = demo_uscc(body)
        if Merchant.objects.filter(uscc=uscc).exists():
            continue
        application = _apply(username=username, name=name, uscc=uscc, phone=phone, full_name="演示申请人", now=now,
                             legal_rep_name="演示法人", legal_rep_id_number=_id_number("12010419900101003"),
                             contact_name="演示联系人", contact_phone=phone, industry=industry,
                             business_scenario=scenario, expected_monthly_volume="50000.00",
                             expected_monthly_workers=20)
        if outcome == "REJECTED":
            services.merchant_application_reject(application=application, actor=reviewer, now=now,
                                                 reason="业务场景为劳务派遣，不属于共享经济灵活用工服务范围")
    lines.append("入驻审核队列 /ops/merchants/merchantapplication/?status__exact=SUBMITTED：天津蓝鲸家政（待审核）；"
                 f"已驳回：天津速达劳务（登录 suda_admin 查看原因）；申请人登录 lanjing_admin 密码 {DEMO_PASSWORD}")
    lines.append("新企业自助入驻 /enterprise/apply/ ；操作指南 /enterprise/guide/ ；"
                 "沙箱企业认证：企业名称含“测试失败”即认证不通过")

    kuaisong = Merchant.objects.filter(uscc=demo_uscc(DEMO_MERCHANTS[0][2])).first()
    admin = User.objects.filter(username="kuaisong_admin").first()
    if kuaisong is not None and kuaisong.status == Merchant.Status.ACTIVE:
        lines += _propose_fee_change(kuaisong, reviewer, now)
    if kuaisong is not None and admin is not None and kuaisong.status == Merchant.Status.ACTIVE:
        existing = ApiKey.objects.filter(merchant=kuaisong, revoked_at__isnull=True).order_by("id").first()
        if existing is None:
            key, secret = services.api_key_create(merchant=kuaisong, actor=admin, label="演示 ERP 对接", now=now)
            lines.append(f"快送 API 密钥（只显示这一次）：Key ID {key.key_id}  Secret {secret}  —— 签名方法见 docs/api.md")
        else:
            lines.append(f"快送 API 密钥 {existing.key_id} 已存在（Secret 只在创建时显示；可在 /enterprise/api-keys/ 新建）")
    return lines
