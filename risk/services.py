"""风控 services: checks asked by other apps (``check_*`` returning a ``RiskDecision``) and list maintenance."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import ValidationFailed
from risk import rules
from risk.exceptions import ListEntryExists
from risk.models import ListEntry, RiskCheck

PASS, REVIEW, REJECT = RiskCheck.Outcome.PASS, RiskCheck.Outcome.REVIEW, RiskCheck.Outcome.REJECT
_SEVERITY = {PASS: 0, REVIEW: 1, REJECT: 2}


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    outcome: str


@dataclass
class RiskDecision:
    """The outcome of a check: PASS, REVIEW (a person must look) or REJECT, with every reason found."""

    outcome: str = PASS
    reasons: list[Reason] = field(default_factory=list)

    def add(self, outcome: str, code: str, message: str) -> None:
        self.reasons.append(Reason(code=code, message=message, outcome=str(outcome)))
        if _SEVERITY[outcome] > _SEVERITY[self.outcome]:
            self.outcome = outcome

    @property
    def passed(self) -> bool:
        return self.outcome == PASS

    @property
    def rejected(self) -> bool:
        return self.outcome == REJECT

    def reasons_as_dicts(self) -> list[dict]:
        return [asdict(reason) | {"message": str(reason.message)} for reason in self.reasons]

    def summary(self) -> str:
        return _("；").join(str(reason.message) for reason in self.reasons) or _("未发现风险")


def _entries(list_type: str, subject: str):
    return ListEntry.objects.filter(list_type=list_type, subject=subject, active=True).order_by("id")


@transaction.atomic
def check_merchant_application(*, merchant=None, uscc: str, name: str, industry: str, scenario: str,
                               now) -> RiskDecision:
    """Rules run before an enterprise is approved (or a change of its key data): blacklists by USCC and by name,
    a duplicate USCC (another enterprise already holds it), and whether the business scenario is allowed.

    A whitelisted USCC skips the name and industry checks but never the prohibited-scenario rule. The decision is
    recorded (``RiskCheck``) and audited. Raises nothing: the caller decides what to do with the outcome.
    """
    from merchants.models import Merchant

    decision = RiskDecision()
    uscc = (uscc or "").strip().upper()
    name = (name or "").strip()
    scenario = scenario or ""
    whitelisted = _entries(ListEntry.ListType.WHITE, ListEntry.Subject.USCC).filter(value=uscc).first()

    black = _entries(ListEntry.ListType.BLACK, ListEntry.Subject.USCC).filter(value=uscc).first()
    if black:
        decision.add(REJECT, "blacklist_uscc", f"统一社会信用代码 {uscc} 在平台黑名单中（{black.reason}）")
    if not whitelisted:
        for entry in _entries(ListEntry.ListType.BLACK, ListEntry.Subject.MERCHANT_NAME):
            if entry.value and entry.value in name:
                decision.add(REJECT, "blacklist_name", f"企业名称含黑名单关键词“{entry.value}”（{entry.reason}）")

    others = Merchant.objects.filter(uscc=uscc)
    if merchant is not None:
        others = others.exclude(pk=merchant.pk)
    if others.exists():
        decision.add(REJECT, "duplicate_uscc", f"统一社会信用代码 {uscc} 已由平台上的另一家企业使用，不能重复入驻")

    keywords = list(rules.PROHIBITED_SCENARIO_KEYWORDS) + [
        entry.value for entry in _entries(ListEntry.ListType.BLACK, ListEntry.Subject.SCENARIO_KEYWORD)
    ]
    hits = [word for word in keywords if word and word in scenario]
    if hits:
        decision.add(REJECT, "scenario_prohibited",
                     f"业务场景含平台不允许的业务：{'、'.join(dict.fromkeys(hits))}")
    if not whitelisted:
        if industry in rules.REVIEW_INDUSTRIES:
            decision.add(REVIEW, "industry_other", "所属行业为“其他”，需人工核实业务场景")
        elif industry not in rules.ALLOWED_INDUSTRIES:
            decision.add(REJECT, "industry_not_allowed", f"所属行业“{industry or '未填写'}”不在平台可服务的行业范围内")
        if len(scenario.strip()) < rules.MIN_SCENARIO_LENGTH:
            decision.add(REVIEW, "scenario_too_short",
                         f"业务场景描述不足 {rules.MIN_SCENARIO_LENGTH} 个字，需人工核实业务真实性")
    else:
        decision.reasons.append(Reason(code="whitelisted", message=f"白名单企业（{whitelisted.reason}）",
                                       outcome=str(PASS)))

    check = RiskCheck.objects.create(check_name="merchant_application", merchant=merchant,
                                     outcome=decision.outcome, reasons=decision.reasons_as_dicts(), checked_at=now)
    audit.record(event="risk.merchant_application.checked", now=now, subject=check,
                 merchant=merchant, after={"outcome": decision.outcome,
                                           "codes": [reason.code for reason in decision.reasons]})
    return decision


@transaction.atomic
def list_entry_add(*, list_type: str, subject: str, value: str, reason: str, actor, now) -> ListEntry:
    """Add a blacklist / whitelist entry. Raises ValidationFailed (empty value or reason), ListEntryExists."""
    value = (value or "").strip()
    if subject == ListEntry.Subject.USCC:
        value = value.upper()
    if not value:
        raise ValidationFailed(_("请填写名单的值"))
    if not (reason or "").strip():
        raise ValidationFailed(_("请填写列入名单的原因"))
    shown = value
    if subject == ListEntry.Subject.ID_NUMBER:
        # A worker is listed by the blind index of their ID number: the list and the audit never hold it in clear.
        from core.pii import blind_index, mask_id_number
        from core.validators import validate_resident_id

        number = validate_resident_id(value).number
        value, shown = blind_index(number, purpose="id_number"), mask_id_number(number)
    try:
        with transaction.atomic():
            entry = ListEntry.objects.create(list_type=list_type, subject=subject, value=value, reason=reason.strip(),
                                             created_by=actor, created_at=now)
    except IntegrityError:
        raise ListEntryExists(_("名单中已有“{value}”，如需修改请编辑原记录").format(value=shown)) from None
    audit.record(event="risk.list_entry.added", now=now, actor=actor, subject=entry,
                 after={"list_type": list_type, "subject": subject, "value": shown})
    return entry


@transaction.atomic
def list_entry_set_active(*, entry: ListEntry, active: bool, actor, now) -> ListEntry:
    before = entry.active
    entry.active = active
    entry.save(update_fields=["active"])
    audit.record(event="risk.list_entry.changed", now=now, actor=actor, subject=entry,
                 before={"active": before}, after={"active": active})
    return entry
