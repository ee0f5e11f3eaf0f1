"""代理报税: rule sets (data), settings for the open questions, cumulative state, withholdings, periods and filings.

- ``TaxRuleSet``: one versioned, effective-dated set of parameters, chosen by the tax-liability date. Loaded by data
  migrations; read-only in the admin. A new rule set is a new row, never an edit of an old one.
- ``TaxSettings``: the singleton with the rule book's §8 open questions as explicit settings.
- ``TaxAccount``: a worker's cumulative state for one operating entity and year — the row that is locked
  (``select_for_update``) so that two payments for one worker are computed one after the other.
- ``Withholding``: one payment's computed taxes (or the reversal of one), with every line's inputs and formula.
- ``TaxPeriod`` → ``TaxReturn`` (versioned XLSX files: 扣缴申报, 代办申报) → ``TaxReceipt`` (完税凭证 uploaded by ops).
- ``TaxStatement``: a worker's 收入纳税明细 PDF with its verification code.
- ``PlatformReport``: the quarterly Decree 810 / STA 2025 No. 15 report.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from core.models import TenantOwnedModel, TimeStampedModel


class TaxRuleSet(models.Model):
    code = models.CharField(_("规则集编号"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    effective_from = models.DateField(_("生效日期（纳税义务发生日）"))
    effective_to = models.DateField(_("失效日期（含）"), null=True, blank=True)
    parameters = models.JSONField(_("参数"))
    sources = models.JSONField(_("依据文件"), default=list)
    notes = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("税费规则集")
        verbose_name_plural = _("税费规则集")
        constraints = [
            models.CheckConstraint(condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                                   name="tax_ruleset_dates_ordered"),
        ]

    def __str__(self) -> str:
        end = self.effective_to.isoformat() if self.effective_to else "—"
        return f"{self.code}（{self.effective_from.isoformat()} ~ {end}）"


class Location(models.TextChoices):
    URBAN = "URBAN", _("市区（城建税 7%）")
    COUNTY = "COUNTY", _("县城、镇（城建税 5%）")
    OTHER = "OTHER", _("其他地区（城建税 1%）")


class TaxSettings(models.Model):
    """The §8 open questions of the rule book as explicit settings (one row, pk=1). Defaults: docs/tax-engine.md."""

    class GapRule(models.TextChoices):
        RESET_COUNT = "RESET_COUNT", _("断月只重置减除费用月份数（字面解读，默认）")
        RESTART_SEGMENT = "RESTART_SEGMENT", _("断月后累计收入与已预扣税额重新起算")

    class Base(models.TextChoices):
        VAT_EXCLUSIVE = "VAT_EXCLUSIVE", _("不含增值税金额")
        GROSS = "GROSS", _("含税金额")

    class LocationBasis(models.TextChoices):
        PLATFORM = "PLATFORM", _("平台主管税务机关所在地（默认）")
        WORKER = "WORKER", _("灵工人员所在地")

    gap_month_rule = models.CharField(_("No.16 断月处理"), max_length=20, choices=GapRule.choices,
                                      default=GapRule.RESET_COUNT)
    iit_base_when_vat_due = models.CharField(_("需缴增值税时个税计税收入"), max_length=20, choices=Base.choices,
                                             default=Base.VAT_EXCLUSIVE)
    vat_threshold_base = models.CharField(_("增值税起征点比较口径"), max_length=20, choices=Base.choices,
                                          default=Base.VAT_EXCLUSIVE)
    surcharge_location_basis = models.CharField(_("城建税税率地点"), max_length=20, choices=LocationBasis.choices,
                                                default=LocationBasis.PLATFORM)
    platform_location = models.CharField(_("平台所在地类别"), max_length=10, choices=Location.choices,
                                         default=Location.URBAN)
    entity_code = models.CharField(_("平台经营主体代码"), max_length=32, default="main",
                                   help_text=_("累计预扣按“人员 × 经营主体 × 年度”计算"))
    entity_name = models.CharField(_("经营主体名称"), max_length=200, blank=True)
    entity_uscc = models.CharField(_("经营主体统一社会信用代码"), max_length=18, blank=True)
    platform_name = models.CharField(_("平台名称"), max_length=100, default="灵工")
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("报税设置")
        verbose_name_plural = _("报税设置")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="tax_settings_singleton")]

    def __str__(self) -> str:
        return "报税设置"

    @classmethod
    def load(cls) -> TaxSettings:
        row, _created = cls.objects.get_or_create(
            pk=1, defaults={"entity_name": settings.PLATFORM_LEGAL_NAME, "entity_uscc": settings.PLATFORM_USCC})
        return row


class WorkerTaxProfile(TimeStampedModel):
    """Where the worker lives, for the 城建税 rate when the settings say the worker's location counts."""

    member = models.OneToOneField("members.Member", on_delete=models.PROTECT, related_name="tax_profile")
    location = models.CharField(_("所在地类别"), max_length=10, choices=Location.choices, default=Location.URBAN)
    city = models.CharField(_("所在城市"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("灵工人员税务信息")
        verbose_name_plural = _("灵工人员税务信息")


class TaxAccount(TimeStampedModel):
    """累计预扣状态: one worker × operating entity × year. Locked for every withholding and reversal.

    The figures here are a cache of the worker's withholdings (recomputed after each write); the engine always
    recomputes from the withholding rows themselves, so a reversal restores the state exactly.
    """

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="tax_accounts")
    entity_code = models.CharField(_("经营主体"), max_length=32)
    year = models.PositiveSmallIntegerField(_("年度"))
    income_fen = models.BigIntegerField(_("累计收入（分）"), default=0)
    iit_fen = models.BigIntegerField(_("累计已预扣个税（分）"), default=0)
    vat_fen = models.BigIntegerField(_("累计代征增值税（分）"), default=0)
    surcharges_fen = models.BigIntegerField(_("累计附加税费（分）"), default=0)
    consecutive_months = models.PositiveSmallIntegerField(_("连续取得收入月份数"), default=0)
    last_month = models.PositiveSmallIntegerField(_("最近取得收入月份"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=0)

    class Meta:
        verbose_name = _("累计预扣状态")
        verbose_name_plural = _("累计预扣状态")
        constraints = [models.UniqueConstraint(fields=["member", "entity_code", "year"], name="tax_account_unique")]

    def __str__(self) -> str:
        return f"{self.member_id}/{self.entity_code}/{self.year}"


class TaxPeriod(FSMModelMixin, TimeStampedModel):
    """税款所属期 (a month) of one operating entity: OPEN → FILED; a reversal after filing opens a 更正."""

    class Status(models.TextChoices):
        OPEN = "OPEN", _("未申报")
        FILED = "FILED", _("已申报")
        CORRECTION_PENDING = "CORRECTION_PENDING", _("待更正申报")

    entity_code = models.CharField(_("经营主体"), max_length=32)
    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"))
    status = FSMField(_("状态"), max_length=20, choices=Status.choices, default=Status.OPEN, protected=True)
    version = models.PositiveIntegerField(_("申报版本"), default=0)
    filed_at = models.DateTimeField(_("申报时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("税款所属期")
        verbose_name_plural = _("税款所属期")
        constraints = [
            models.UniqueConstraint(fields=["entity_code", "year", "month"], name="tax_period_unique"),
            models.CheckConstraint(condition=Q(month__gte=1) & Q(month__lte=12), name="tax_period_month_range"),
        ]

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}（{self.get_status_display()}）"

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month:02d}月"

    @property
    def is_locked(self) -> bool:
        return self.status != self.Status.OPEN

    @transition(field=status, source=Status.OPEN, target=Status.FILED)
    def file(self, *, at) -> None:
        self.version = 1
        self.filed_at = at

    @transition(field=status, source=Status.FILED, target=Status.CORRECTION_PENDING)
    def open_correction(self) -> None:
        pass

    @transition(field=status, source=Status.CORRECTION_PENDING, target=Status.FILED)
    def file_correction(self, *, at) -> None:
        self.version += 1
        self.filed_at = at


class Withholding(TenantOwnedModel):
    """One payment's taxes (kind PAYMENT) or the reversal of one (kind REVERSAL, every amount negated).

    ``gross_fen = net_fen + iit_fen + vat_fen + urban_fen + education_fen + local_education_fen`` always.
    ``lines`` keeps each computed line (inputs, rule set, rate, quick deduction, formula, result).
    """

    class Kind(models.TextChoices):
        PAYMENT = "PAYMENT", _("代扣")
        REVERSAL = "REVERSAL", _("冲回")

    class Bearer(models.TextChoices):
        WORKER = "WORKER", _("灵工人员承担")
        MERCHANT = "MERCHANT", _("企业承担")

    # Every batch payment writes one row here: indexes another index already covers are not kept (the merchant's
    # by the unique (merchant, payment_ref, kind), the member's by (member, liability_date)), nor the rule set's.
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("企业"), db_index=False)
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="withholdings",
                               db_index=False)
    account = models.ForeignKey(TaxAccount, on_delete=models.PROTECT, related_name="withholdings")
    period = models.ForeignKey(TaxPeriod, on_delete=models.PROTECT, related_name="withholdings")
    payment_ref = models.CharField(_("付款单号"), max_length=64)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.PAYMENT)
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="reversal", verbose_name=_("冲回的代扣"))
    entity_code = models.CharField(_("经营主体"), max_length=32)
    liability_date = models.DateField(_("纳税义务发生日"))
    rule_set = models.ForeignKey(TaxRuleSet, on_delete=models.PROTECT, related_name="+", verbose_name=_("规则集"),
                                 db_index=False)
    route = models.CharField(_("计税路径"), max_length=20)
    bearer = models.CharField(_("税费承担方"), max_length=10, choices=Bearer.choices)
    gross_fen = models.BigIntegerField(_("税前收入（分）"))
    iit_income_fen = models.BigIntegerField(_("个税计税收入（分）"))
    iit_fen = models.BigIntegerField(_("个人所得税（分）"))
    vat_fen = models.BigIntegerField(_("增值税（分）"))
    urban_fen = models.BigIntegerField(_("城市维护建设税（分）"))
    education_fen = models.BigIntegerField(_("教育费附加（分）"))
    local_education_fen = models.BigIntegerField(_("地方教育附加（分）"))
    net_fen = models.BigIntegerField(_("实发（分）"))
    lines = models.JSONField(_("计算明细"))
    options = models.JSONField(_("计算设置"))
    computed_at = models.DateTimeField(_("计算时间"))
    correction_version = models.PositiveIntegerField(_("更正版本"), null=True, blank=True,
                                                     help_text=_("申报后冲回时，进入该所属期的第几版更正申报"))

    class Meta:
        verbose_name = _("代扣代缴记录")
        verbose_name_plural = _("代扣代缴记录")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "payment_ref", "kind"], name="tax_withholding_ref_unique"),
            models.CheckConstraint(
                condition=Q(gross_fen=F("net_fen") + F("iit_fen") + F("vat_fen") + F("urban_fen")
                            + F("education_fen") + F("local_education_fen")),
                name="tax_withholding_adds_up"),
            models.CheckConstraint(
                condition=(Q(kind="PAYMENT") & Q(gross_fen__gt=0) & Q(reverses__isnull=True))
                | (Q(kind="REVERSAL") & Q(gross_fen__lt=0) & Q(reverses__isnull=False)),
                name="tax_withholding_kind_sign"),
        ]
        indexes = [models.Index(fields=["member", "liability_date"], name="tax_wh_member_date_idx")]

    def __str__(self) -> str:
        return f"{self.payment_ref} {self.get_kind_display()}"

    @property
    def surcharges_fen(self) -> int:
        return self.urban_fen + self.education_fen + self.local_education_fen

    @property
    def tax_fen(self) -> int:
        return self.iit_fen + self.vat_fen + self.surcharges_fen


def tax_upload_to(instance, filename: str) -> str:
    """Private storage (never served from MEDIA_URL); downloads go through views that check who is asking."""
    folder = {"TaxReturn": "returns", "TaxReceipt": "receipts", "TaxStatement": "statements",
              "PlatformReport": "platform-reports"}[type(instance).__name__]
    return f"private/tax/{folder}/{filename}"


class TaxReturn(models.Model):
    """One version of a filed return file. Version 1 is the original; later versions are 更正 (never an edit)."""

    class Kind(models.TextChoices):
        IIT = "IIT", _("扣缴申报（劳务报酬）")
        VAT = "VAT", _("代办申报（增值税及附加税费）")

    period = models.ForeignKey(TaxPeriod, on_delete=models.PROTECT, related_name="returns")
    kind = models.CharField(_("申报表"), max_length=8, choices=Kind.choices)
    version = models.PositiveIntegerField(_("版本"))
    is_correction = models.BooleanField(_("更正申报"), default=False)
    file = models.FileField(_("文件"), upload_to=tax_upload_to)
    sha256 = models.CharField(max_length=64)
    row_count = models.PositiveIntegerField(_("人数/行数"))
    income_fen = models.BigIntegerField(_("收入合计（分）"))
    tax_fen = models.BigIntegerField(_("税额合计（分）"))
    created_at = models.DateTimeField(_("生成时间"))

    class Meta:
        verbose_name = _("申报表")
        verbose_name_plural = _("申报表")
        constraints = [models.UniqueConstraint(fields=["period", "kind", "version"], name="tax_return_unique")]

    def __str__(self) -> str:
        return f"{self.period.label} {self.get_kind_display()} v{self.version}"


class TaxReceipt(models.Model):
    """完税凭证: what was paid to the tax office for a period's return, with the receipt file uploaded by operations."""

    tax_return = models.ForeignKey(TaxReturn, on_delete=models.PROTECT, related_name="receipts",
                                   verbose_name=_("申报表"))
    amount_paid_fen = models.BigIntegerField(_("实缴金额（分）"))
    paid_on = models.DateField(_("缴款日期"))
    receipt_number = models.CharField(_("凭证号码"), max_length=64)
    file = models.FileField(_("完税凭证文件"), upload_to=tax_upload_to)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField(_("上传时间"))

    class Meta:
        verbose_name = _("完税凭证")
        verbose_name_plural = _("完税凭证")
        constraints = [
            models.UniqueConstraint(fields=["tax_return", "receipt_number"], name="tax_receipt_unique"),
            models.CheckConstraint(condition=Q(amount_paid_fen__gte=0), name="tax_receipt_amount_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_number}"


class TaxStatement(models.Model):
    """收入纳税明细 issued to a worker: a PDF with a verification code checked by /verify/tax/<code>/."""

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="tax_statements")
    year = models.PositiveSmallIntegerField(_("年度"))
    code = models.CharField(_("验证码"), max_length=16, unique=True)
    summary = models.JSONField(_("内容摘要"))
    sha256 = models.CharField(max_length=64)
    file = models.FileField(_("文件"), upload_to=tax_upload_to)
    issued_at = models.DateTimeField(_("开具时间"))

    class Meta:
        verbose_name = _("收入纳税明细")
        verbose_name_plural = _("收入纳税明细")

    def __str__(self) -> str:
        return f"{self.year} {self.code}"


class PlatformReport(models.Model):
    """互联网平台企业涉税信息报送 (Decree 810, STA 2025 No. 15): one quarter's identity and income report."""

    entity_code = models.CharField(_("经营主体"), max_length=32)
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    file = models.FileField(_("文件"), upload_to=tax_upload_to)
    sha256 = models.CharField(max_length=64)
    reported_count = models.PositiveIntegerField(_("报送人数"))
    excluded = models.JSONField(_("免于报送（原因 → 人数）"), default=dict)
    created_at = models.DateTimeField(_("生成时间"))

    class Meta:
        verbose_name = _("平台涉税信息报送")
        verbose_name_plural = _("平台涉税信息报送")
        constraints = [
            models.UniqueConstraint(fields=["entity_code", "year", "quarter"], name="tax_platform_report_unique"),
            models.CheckConstraint(condition=Q(quarter__gte=1) & Q(quarter__lte=4), name="tax_report_quarter_range"),
        ]

    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"
