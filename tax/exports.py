"""XLSX files laid out like the 扣缴端 import templates (filing-archive-complaints.md §1).

Header text is copied exactly (``*`` marks and full-width brackets included) on row 1 only, so the operator's client
can match columns by header; ID numbers and dates are text cells. Names and ID numbers are decrypted only into the
file, never into logs or the audit trail. Readers (tests, re-imports) must match columns by header text too.
"""

from __future__ import annotations

import io
from collections import defaultdict
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from core.money import fen_to_decimal
from core.pii import mask_id_number, mask_name
from tax import engine

ID_TYPE = "居民身份证"

# 人员信息采集（境内人员）: 51 columns, in order
PERSONNEL_HEADERS = [
    "工号", "*姓名", "*证件类型", "*证件号码", "*国籍(地区)", "*性别", "*出生日期", "是否高级专家", "*任职受雇从业类型",
    "其他情况说明", "入职年度就业情形", "手机号码", "任职受雇从业日期", "离职日期", "是否离职后补发工资",
    "实际补发工资的月份", "是否残疾", "是否烈属", "是否孤老", "残疾证件类型", "残疾证号", "烈属证号", "是否扣除减除费用",
    "个人投资额", "个人投资比例(%)", "备注", "中文名", "涉税事由", "出生国家(地区)", "首次入境时间", "预计离境时间",
    "其他证件类型", "其他证件号码", "户籍所在地（省）", "户籍所在地（市）", "户籍所在地（区县）", "户籍所在地（详细地址）",
    "经常居住地（省）", "经常居住地（市）", "经常居住地（区县）", "经常居住地（详细地址）", "联系地址（省）", "联系地址（市）",
    "联系地址（区县）", "联系地址（详细地址）", "电子邮箱", "学历", "开户银行", "银行账号", "开户行省份", "职务",
]
# 劳务报酬（适用累计预扣法）— 所得项目 其他连续劳务报酬 (0489)
CUMULATIVE_HEADERS = ["工号", "*姓名", "*证件类型", "*证件号码", "*所得项目", "本期收入", "本期免税收入", "累计个人养老金",
                      "商业健康保险", "税延养老保险", "其他", "允许扣除的税费", "减免税额", "协定减免", "备注"]
# 劳务报酬所得（不适用累计预扣法）— 一般劳务报酬所得 (0401), one row per payment
PER_PAYMENT_HEADERS = ["工号", "*姓名", "*证件类型", "*证件号码", "*所得项目", "*收入", "免税收入", "商业健康保险",
                       "税延养老保险", "其他", "允许扣除的税费", "减免税额", "协定减免", "备注"]
CHECK_HEADERS = ["工号", "姓名", "证件号码", "所得项目", "本期收入", "累计收入", "累计费用", "累计减除费用", "连续月份数",
                 "预扣率", "速算扣除数", "本期应预扣预缴税额", "付款笔数"]
VAT_HEADERS = ["序号", "姓名", "证件类型", "证件号码", "平台内唯一标识", "收入（含税）", "销售额（不含税）", "免税销售额",
               "征收率", "增值税应纳税额", "城市维护建设税", "教育费附加", "地方教育附加", "附加税费合计",
               "已代征税费", "多代征应退", "备注"]
ITEM_CUMULATIVE = "其他连续劳务报酬"
ITEM_PER_PAYMENT = "一般劳务报酬所得"


def worker_code(member_id: int) -> str:
    return f"LG{member_id:08d}"


def _sheet(workbook: Workbook, title: str, headers: list[str], *, first: bool = False):
    sheet = workbook.active if first else workbook.create_sheet()
    sheet.title = title
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    return sheet


def _text(sheet, row: list) -> None:
    """Append a row; strings stay text cells (ID numbers must never become numbers)."""
    sheet.append(row)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.number_format = "@"


def _yuan(fen: int) -> Decimal:
    return fen_to_decimal(fen)


def _gender_and_birth(id_number: str) -> tuple[str, str]:
    if len(id_number) != 18:
        return "", ""
    gender = "男" if int(id_number[16]) % 2 else "女"
    return gender, f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}"


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def iit_return(*, period, rows, year_rows, label: str) -> tuple[bytes, dict]:
    """扣缴申报 for one month: the personnel sheet, the 劳务报酬 import sheet(s) and a check sheet with our figures.

    ``rows``: the period's withholdings (payments and reversals) on labour routes; ``year_rows``: the same workers'
    rows of the year up to this month (for the cumulative check figures). Returns (xlsx bytes, totals).
    """
    workbook = Workbook()
    people = _sheet(workbook, "人员信息采集", PERSONNEL_HEADERS, first=True)
    cumulative = _sheet(workbook, "劳务报酬（适用累计预扣法）", CUMULATIVE_HEADERS)
    per_payment = _sheet(workbook, "劳务报酬（不适用累计预扣法）", PER_PAYMENT_HEADERS)
    check = _sheet(workbook, "税款计算核对", CHECK_HEADERS)
    by_member: dict = defaultdict(list)
    for row in rows:
        by_member[row.member_id].append(row)
    year_by_member: dict = defaultdict(list)
    for row in year_rows:
        year_by_member[row.member_id].append(row)
    income_total = tax_total = people_count = 0
    for member_id in sorted(by_member):
        member_rows = by_member[member_id]
        member = member_rows[0].member
        code = worker_code(member_id)
        income = sum(r.iit_income_fen for r in member_rows)
        tax = sum(r.iit_fen for r in member_rows)
        reversed_ids = {r.reverses_id for r in member_rows if r.reverses_id}
        live_payments = [r for r in member_rows if r.kind == "PAYMENT" and r.id not in reversed_ids]
        if not live_payments and income == 0:
            continue  # every payment of the month was reversed: nothing to declare for this worker
        people_count += 1
        gender, birth = _gender_and_birth(member.id_number)
        personnel = dict.fromkeys(PERSONNEL_HEADERS, None) | {
            "工号": code, "*姓名": member.name, "*证件类型": ID_TYPE, "*证件号码": member.id_number,
            "*国籍(地区)": "中国", "*性别": gender, "*出生日期": birth, "*任职受雇从业类型": "其他",
            "是否扣除减除费用": "是", "是否残疾": "否", "是否烈属": "否", "是否孤老": "否"}
        _text(people, list(personnel.values()))
        routes = {r.route for r in member_rows}
        if engine.LABOR_CUMULATIVE in routes:
            _text(cumulative, [code, member.name, ID_TYPE, member.id_number, ITEM_CUMULATIVE, _yuan(income),
                               0, 0, 0, 0, 0, 0, 0, 0, f"平台代扣，{label}"])
            year = [r for r in year_by_member[member_id] if r.route == engine.LABOR_CUMULATIVE]
            months = {}
            for r in year:
                months[r.liability_date.month] = months.get(r.liability_date.month, 0) + r.iit_income_fen
            run = engine.consecutive_months({m for m, v in months.items() if v > 0}, period.month)
            cum_income = sum(months.values())
            last_line = next((r.lines[0] for r in reversed(live_payments) if r.lines), {})
            _text(check, [code, member.name, member.id_number, ITEM_CUMULATIVE, _yuan(income), _yuan(cum_income),
                          _yuan(round(cum_income * Decimal("0.2"))), _yuan(500000 * len(run)), len(run),
                          last_line.get("rate", ""), _yuan(last_line.get("quick_deduction_fen") or 0), _yuan(tax),
                          len(live_payments)])
        else:
            # one row per 次: an enterprise's payments to the worker in the month (实施条例第十四条)
            occasions: dict = defaultdict(list)
            for r in member_rows:
                occasions[r.merchant_id].append(r)
            for merchant_rows in occasions.values():
                occasion_income = sum(r.iit_income_fen for r in merchant_rows)
                if occasion_income <= 0:
                    continue
                refs = ", ".join(r.payment_ref for r in merchant_rows if r.kind == "PAYMENT" and r.id not in reversed_ids)
                _text(per_payment, [code, member.name, ID_TYPE, member.id_number, ITEM_PER_PAYMENT,
                                    _yuan(occasion_income), 0, 0, 0, 0, 0, 0, 0,
                                    f"{merchant_rows[0].merchant.name}：{refs}"[:200]])
            _text(check, [code, member.name, member.id_number, ITEM_PER_PAYMENT, _yuan(income), "", "", "", "",
                          "", "", _yuan(tax), len(live_payments)])
        income_total += income
        tax_total += tax
    return _save(workbook), {"row_count": people_count, "income_fen": income_total, "tax_fen": tax_total}


def month_due(member_rows) -> dict:
    """The VAT and surcharges due on the worker's month total, re-computed with the rule set and settings of the
    month's last payment. Differs from what was withheld only after a reversal took the month back under the line
    (withholding never refunds mid-month; the difference is owed back to the worker)."""
    payments = [r for r in member_rows if r.kind == "PAYMENT"] or member_rows
    last = payments[-1]
    options = engine.Options(**{key: last.options[key] for key in
                                ("gap_month_rule", "iit_base_when_vat_due", "vat_threshold_base", "location")})
    gross = sum(r.gross_fen for r in member_rows)
    params = last.rule_set.parameters
    vat_line = engine.vat_month(gross, engine.PriorState(), params, options)
    due = {engine.VAT: vat_line.amount_fen, "rate": vat_line.rate}
    for line in engine.surcharges(vat_line.amount_fen, engine.PriorState(), params, options):
        due[line.kind] = line.amount_fen if vat_line.amount_fen else 0
    for kind in engine.SURCHARGE_KINDS:
        due.setdefault(kind, 0)
    return due


def vat_return(*, period, rows, label: str) -> tuple[bytes, dict]:
    """代办申报（为从业人员代办适用）: VAT and surcharges due per worker for the month, beside what was withheld."""
    workbook = Workbook()
    sheet = _sheet(workbook, "代办申报（增值税及附加税费）", VAT_HEADERS, first=True)
    by_member: dict = defaultdict(list)
    for row in rows:
        by_member[row.member_id].append(row)
    count = income_total = tax_total = 0
    for member_id in sorted(by_member):
        member_rows = by_member[member_id]
        member = member_rows[0].member
        gross = sum(r.gross_fen for r in member_rows)
        if gross <= 0:
            continue
        due = month_due(member_rows)
        vat = due[engine.VAT]
        urban, education, local = due[engine.URBAN], due[engine.EDUCATION], due[engine.LOCAL_EDUCATION]
        withheld = sum(r.vat_fen + r.surcharges_fen for r in member_rows)
        refund = withheld - (vat + urban + education + local)
        count += 1
        note = "达到起征点，全额计税" if vat else "月销售额未超过起征点，免征"
        if refund:
            note += f"；已代征 {_yuan(withheld)} 元，多代征 {_yuan(refund)} 元应退还本人"
        _text(sheet, [count, member.name, ID_TYPE, member.id_number, worker_code(member_id), _yuan(gross),
                      _yuan(gross - vat) if vat else 0, 0 if vat else _yuan(gross), due["rate"], _yuan(vat),
                      _yuan(urban), _yuan(education), _yuan(local), _yuan(urban + education + local),
                      _yuan(withheld), _yuan(refund), note])
        income_total += gross
        tax_total += vat + urban + education + local
    return _save(workbook), {"row_count": count, "income_fen": income_total, "tax_fen": tax_total}


MERCHANT_HEADERS = ["纳税义务发生日", "付款单号", "类型", "灵工人员", "证件号码", "计税路径", "规则集", "税费承担方",
                    "税前收入", "个人所得税", "增值税", "城市维护建设税", "教育费附加", "地方教育附加", "实发金额", "所属期状态"]


def merchant_month(*, merchant, rows, label: str) -> bytes:
    """An enterprise's own tax detail for a month: one row per payment or reversal, people masked."""
    workbook = Workbook()
    sheet = _sheet(workbook, f"{label}代扣税费明细"[:31], MERCHANT_HEADERS, first=True)
    for r in rows:
        _text(sheet, [r.liability_date.isoformat(), r.payment_ref, r.get_kind_display(), mask_name(r.member.name),
                      mask_id_number(r.member.id_number), engine.ROUTES.get(r.route, r.route), r.rule_set.code,
                      r.get_bearer_display(), _yuan(r.gross_fen), _yuan(r.iit_fen), _yuan(r.vat_fen),
                      _yuan(r.urban_fen), _yuan(r.education_fen), _yuan(r.local_education_fen), _yuan(r.net_fen),
                      r.period.get_status_display()])
    totals = ["合计", "", "", "", "", "", "", "", *[_yuan(sum(getattr(r, f) for r in rows)) for f in
              ("gross_fen", "iit_fen", "vat_fen", "urban_fen", "education_fen", "local_education_fen", "net_fen")], ""]
    sheet.append(totals)
    return _save(workbook)


IDENTITY_HEADERS = ["序号", "是否已取得登记证照", "名称（已取得登记证照）", "统一社会信用代码（纳税人识别号）",
                    "姓名（未取得登记证照）", "证件类型", "证件号码", "国家或地区", "是否存在免于报送收入信息情形",
                    "店铺（用户）名称", "店铺（用户）唯一标识码", "信息状态标识"]
INCOME_HEADERS = ["序号", "是否已取得登记证照", "姓名", "证件类型", "证件号码", "国家或地区", "收入来源的互联网平台名称",
                  "收入来源的店铺（用户）唯一标识码", "收入总额", "退款金额", "收入净额", "经营收入", "劳务报酬", "交易笔数"]


def platform_report(*, members: list[dict], header: dict) -> bytes:
    """身份信息报送表 + 收入信息报送表 for one quarter (Decree 810 Art. 4; STA 2025 No. 15)."""
    workbook = Workbook()
    identity = _sheet(workbook, "身份信息报送表", IDENTITY_HEADERS, first=True)
    income = _sheet(workbook, "收入信息报送表", INCOME_HEADERS)
    for index, item in enumerate(members, start=1):
        member = item["member"]
        licensed = "是" if member.is_individual_business else "否"
        _text(identity, [index, licensed, "", "", member.name, "201|居民身份证", member.id_number, "156|中国", "否",
                         worker_code(member.pk), worker_code(member.pk), "新增"])
        _text(income, [index, licensed, member.name, "201|居民身份证", member.id_number, "156|中国",
                       header["platform_name"], worker_code(member.pk), _yuan(item["gross_fen"]),
                       _yuan(item["refund_fen"]), _yuan(item["gross_fen"] - item["refund_fen"]),
                       _yuan(item["gross_fen"] - item["refund_fen"]) if member.is_individual_business else 0,
                       0 if member.is_individual_business else _yuan(item["gross_fen"] - item["refund_fen"]),
                       item["count"]])
    info = workbook.create_sheet("报送信息")
    for key, value in header.items():
        info.append([key, value])
    return _save(workbook)
