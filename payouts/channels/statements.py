"""Bank statement files of incoming transfers (来账明细): the layout, a writer (the sandbox uses it) and a parser.

The layout follows what Chinese banks export from online banking (CMB/ICBC 账户交易明细): GBK-encoded CSV, a few
preamble lines, a header row, one row per transaction, a totals line::

    账户交易明细
    账号,122908660000000000,户名,灵工共享经济服务（天津）有限公司,币种,人民币
    起始日期,2026-03-16,截止日期,2026-03-16
    交易日期,交易时间,交易流水号,借贷标志,交易金额,账户余额,对方账号,对方户名,对方开户行,收款虚拟账号,摘要,附言
    2026-03-16,10:30:00,B2026031600001,贷,1500.00,81500.00,6222020200112233445,天津快送同城配送有限公司,工商银行天津分行,12290866000000017,汇款,LG0000017 充值
    合计,笔数,1,金额,1500.00

Only credit rows (借贷标志 贷 / C) are incoming transfers; debit rows are counted as skipped, except a reversal
(冲补账标志 ``*``, CMB's RVSTAG), a debit that takes back the credit named in 原交易流水号. Amounts are yuan with
at most two decimals, parsed strictly to fen.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from core.exceptions import ValidationFailed
from core.money import format_yuan, parse_yuan

HEADER = ["交易日期", "交易时间", "交易流水号", "借贷标志", "交易金额", "账户余额", "对方账号", "对方户名", "对方开户行",
          "收款虚拟账号", "摘要", "附言", "冲补账标志", "原交易流水号"]
REQUIRED = ["交易日期", "交易流水号", "借贷标志", "交易金额"]
CREDIT_FLAGS = {"贷", "C", "CR", "2"}
DEBIT_FLAGS = {"借", "D", "DR", "1"}


@dataclass
class ParsedStatement:
    rows: list = field(default_factory=list)  # IncomingTransferData
    line_numbers: list = field(default_factory=list)  # the file line of each row
    errors: list = field(default_factory=list)  # {"line", "column", "message"}
    skipped: int = 0
    statement_date: dt.date | None = None


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(_("无法识别文件编码，请上传银行导出的 CSV 文件（GBK 或 UTF-8）"))


def _parse_date(text: str) -> dt.date:
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a calendar date, no time zone
        except ValueError:
            continue
    raise ValueError


def _parse_time(text: str) -> dt.time | None:
    text = text.strip()
    if not text:
        return None
    for pattern in ("%H:%M:%S", "%H%M%S", "%H:%M"):
        try:
            return dt.datetime.strptime(text, pattern).time()  # noqa: DTZ007
        except ValueError:
            continue
    raise ValueError


def parse_incoming_statement(content: bytes) -> ParsedStatement:
    """Parse the whole file; collect every bad line rather than stopping at the first."""
    from django.utils import timezone

    from payouts.services.funding import IncomingTransferData

    result = ParsedStatement()
    text = _decode(content)
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    seen: dict[str, tuple[int, int]] = {}
    tz = timezone.get_current_timezone()
    for cells in reader:
        line = reader.line_num
        cells = [cell.strip() for cell in cells]
        if not any(cells):
            continue
        if header is None:
            if cells[0] == "交易日期":
                header = cells
                missing = [name for name in REQUIRED if name not in header]
                if missing:
                    result.errors.append({"line": line, "column": "", "message": _("表头缺少列：{columns}").format(
                        columns="、".join(missing))})
                    return result
            elif cells[0] == "起始日期" and len(cells) > 1:
                try:
                    result.statement_date = _parse_date(cells[1])
                except ValueError:
                    pass
            continue
        if cells[0].startswith("合计"):
            break
        row = dict(zip(header, cells + [""] * (len(header) - len(cells)), strict=False))

        def bad(column: str, message: str, line=line) -> None:
            result.errors.append({"line": line, "column": column, "message": message})

        errors_before = len(result.errors)
        if len(cells) > len(header):
            bad("", _("列数为 {cells}，表头只有 {header} 列（附言中的逗号需用引号括起）").format(
                cells=len(cells), header=len(header)))
            continue
        try:
            value_date = _parse_date(row["交易日期"])
        except ValueError:
            bad("交易日期", _("日期“{value}”无效，应为 YYYY-MM-DD").format(value=row["交易日期"]))
            value_date = None
        try:
            value_time = _parse_time(row.get("交易时间", ""))
        except ValueError:
            bad("交易时间", _("时间“{value}”无效，应为 HH:MM:SS").format(value=row.get("交易时间")))
            value_time = None
        serial = row["交易流水号"]
        if not re.fullmatch(r"[0-9A-Za-z\-_]{4,64}", serial or ""):
            bad("交易流水号", _("流水号为空或含非法字符（应为 4–64 位字母、数字、-、_）"))
        flag = row["借贷标志"].upper()
        if flag not in CREDIT_FLAGS | DEBIT_FLAGS:
            bad("借贷标志", _("借贷标志“{value}”无效，应为“借”或“贷”").format(value=row["借贷标志"]))
        try:
            amount_fen = parse_yuan(row["交易金额"], allow_zero=False, field="交易金额")
        except ValidationFailed as error:
            bad("交易金额", error.message)
            amount_fen = None
        payer_number = re.sub(r"\s", "", row.get("对方账号", ""))
        if payer_number and not re.fullmatch(r"\d{6,32}", payer_number):
            bad("对方账号", _("对方账号应为数字"))
        if serial in seen and seen[serial][1] != amount_fen:
            bad("交易流水号", _("流水号与第 {line} 行重复且金额不同").format(line=seen[serial][0]))
        if len(result.errors) > errors_before:
            continue
        seen.setdefault(serial, (line, amount_fen))
        reversal = row.get("冲补账标志", "") == "*"
        original = row.get("原交易流水号", "")
        if reversal and not original:
            bad("原交易流水号", _("冲正行必须填写原交易流水号"))
            continue
        if flag in DEBIT_FLAGS and not reversal:
            result.skipped += 1
            continue
        transacted_at = dt.datetime.combine(value_date, value_time, tzinfo=tz) if value_time else None
        result.line_numbers.append(line)
        result.rows.append(IncomingTransferData(
            bank_serial=serial, amount_fen=amount_fen, value_date=value_date, transacted_at=transacted_at,
            payer_account_name=row.get("对方户名", ""), payer_account_number=payer_number,
            payer_bank=row.get("对方开户行", ""), virtual_account=row.get("收款虚拟账号", ""),
            postscript=" ".join(part for part in (row.get("摘要", ""), row.get("附言", "")) if part),
            reverses_serial=original if reversal else "",
        ))
    if header is None:
        result.errors.append({"line": 1, "column": "", "message": _(
            "未找到表头行（首列为“交易日期”），请上传银行导出的交易明细文件")})
    return result


def render_incoming_statement(*, rows: list[dict], account_number: str, account_name: str, date: dt.date,
                              opening_balance_fen: int = 0) -> bytes:
    """Write the layout above (GBK). ``rows``: dicts with serial, time (HH:MM:SS), flag (贷/借), amount_fen,
    payer_account, payer_name, payer_bank, virtual_account, summary, postscript."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["账户交易明细"])
    writer.writerow(["账号", account_number, "户名", account_name, "币种", "人民币"])
    writer.writerow(["起始日期", date.isoformat(), "截止日期", date.isoformat()])
    writer.writerow(HEADER)
    balance = opening_balance_fen
    total = 0
    for row in rows:
        signed = row["amount_fen"] if row.get("flag", "贷") == "贷" else -row["amount_fen"]
        balance += signed
        total += row["amount_fen"]
        writer.writerow([date.isoformat(), row.get("time", ""), row["serial"], row.get("flag", "贷"),
                         format_yuan(row["amount_fen"]), format_yuan(balance), row.get("payer_account", ""),
                         row.get("payer_name", ""), row.get("payer_bank", ""), row.get("virtual_account", ""),
                         row.get("summary", "汇款"), row.get("postscript", ""), row.get("reversal", ""),
                         row.get("reverses", "")])
    writer.writerow(["合计", "笔数", len(rows), "金额", format_yuan(total)])
    return out.getvalue().encode("gb18030")
