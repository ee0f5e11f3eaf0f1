"""Batch payment files (批量付款文件): the template, and reading an uploaded CSV or XLSX with line-level errors.

Columns are matched by their header text (aliases allowed, any order); extra columns are ignored. Every line is checked
for format here — name, ID number, phone, account, amount, task reference — and every problem is reported with its line
number (as the user sees it in the file, header = line 1), the column and what to do. Checks against the database
(the worker verified and signed with this enterprise, account ownership, accepted work, risk limits) happen in the
service that creates the batch.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.utils import timezone, translation
from django.utils.functional import Promise, lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy

from core import money
from core.exceptions import DomainError, ValidationFailed
from core.validators import validate_bank_card, validate_mobile, validate_resident_id

MAX_LINES = 200_000
_CARD_TEXT_RE = re.compile(r"[0-9 ]+")
MAX_BYTES = 60 * 1024 * 1024

COLUMNS = [
    # (key, header in the template, aliases, required)
    ("name", "姓名", ("收款人姓名", "收款人", "name"), True),
    ("id_number", "身份证号", ("身份证号码", "证件号码", "id_number"), True),
    ("phone", "手机号", ("手机号码", "phone"), True),
    ("account", "收款账号", ("银行卡号", "收款账户", "支付宝账号", "account"), True),
    ("amount", "金额", ("金额（元）", "付款金额", "amount"), True),
    ("remark", "备注", ("用途", "remark"), False),
    ("task_ref", "任务编号", ("任务", "task_ref", "task"), False),
    ("merchant_order_no", "企业订单号", ("商户订单号", "order_no"), False),
]
TEMPLATE_HEADERS = [header for _, header, _, _ in COLUMNS]
# How a column is named in an error (the file's own headers above stay Chinese: they are what the file is read by)
COLUMN_LABELS = {"name": gettext_lazy("姓名"), "id_number": gettext_lazy("身份证号"), "phone": gettext_lazy("手机号"),
                 "account": gettext_lazy("收款账号"), "amount": gettext_lazy("金额"), "remark": gettext_lazy("备注"),
                 "task_ref": gettext_lazy("任务编号"), "merchant_order_no": gettext_lazy("企业订单号")}

Text = str | Promise  # a lazy text is rendered in the language active when it is turned into a str


class BatchFileError(ValidationFailed):
    code = "batch_file_invalid"


@dataclass
class LineError:
    """A bad line. ``column`` and ``message`` are lazy texts: a batch is checked in a background job, where no
    reader's language is active, and ``line_error_record`` renders them in every language when the batch stores them."""

    line: int
    column: Text
    message: Text

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        return gettext("第 {line} 行 {column}：{message}").format(line=self.line, column=self.column,
                                                                message=self.message)


def line_error_record(error: dict) -> dict:
    """A bad line as a batch stores it (JSON): the column and reason in Chinese, the source language, as
    ``column``/``message`` (what a reader who chose Chinese sees, and what records and tests read), and in every other
    language of the site under ``i18n``::

        {"line": 3, "column": "金额", "message": "金额必须大于 0",
         "i18n": {"en": {"column": "Amount", "message": "Amount must be greater than 0"}}}

    The check runs in a background job that knows nothing of the reader's language, and many reasons carry values
    (an amount, a line number, an enterprise's name), so they cannot be looked up in the catalogue later: each lazy
    text is rendered here, once per language. Only stored errors are rendered (at most 5,000 a batch)."""
    column, message = error["column"], error["message"]
    with translation.override(settings.LANGUAGE_CODE):
        record = {"line": error["line"], "column": str(column), "message": str(message), "i18n": {}}
    for code, _name in settings.LANGUAGES:
        if code != settings.LANGUAGE_CODE:
            with translation.override(code):
                record["i18n"][code] = {"column": str(column), "message": str(message)}
    return record


def line_errors_shown(errors: list[dict]) -> list[dict]:
    """Stored bad lines as the reader sees them, ``{"line", "column", "message"}`` in the active language. A record
    without that language (stored before reasons were rendered per language) is looked up in the catalogue, which
    knows the reasons that carry no values; the others stay Chinese."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    shown = []
    for error in errors:
        rendered = (error.get("i18n") or {}).get(language)
        if rendered is None:
            rendered = {key: gettext(error[key]) if error.get(key) else error.get(key, "")
                        for key in ("column", "message")}
        shown.append({"line": error["line"], "column": rendered["column"], "message": rendered["message"]})
    return shown


def _message_of(check, *args, **kwargs) -> str:
    """The message of the DomainError ``check(*args, **kwargs)`` raises, in the active language ("" if it passes)."""
    try:
        check(*args, **kwargs)
    except DomainError as error:
        return error.message
    return ""


# A validator's reason rendered again in each language: the validators translate when they raise
_lazy_message_of = lazy(_message_of, str)


@dataclass
class BatchLine:
    line: int
    name: str
    id_number: str
    phone: str
    account: str
    amount_fen: int
    remark: str = ""
    task_ref: str = ""
    merchant_order_no: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class ParsedBatch:
    lines: list[BatchLine]
    errors: list[LineError]

    @property
    def total_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)


def template_csv() -> bytes:
    example = ["张伟", "11010519491231002X", "13800000001", "6228480402564890018", "1200.00", "3 月配送服务费", "T2026030001", "ORD-0001"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(TEMPLATE_HEADERS)
    writer.writerow(example)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "批量付款"  # the template is a Chinese document: its headers are what the file is read by
    sheet.append(TEMPLATE_HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append(["张伟", "11010519491231002X", "13800000001", "6228480402564890018", "1200.00", "3 月配送服务费",
                  "T2026030001", "ORD-0001"])
    for column, width in zip("ABCDEFGH", (10, 22, 14, 24, 12, 20, 14, 14), strict=True):
        sheet.column_dimensions[column].width = width
        # Text format keeps ID numbers and card numbers from turning into 1.10105E+17 in Excel.
        for row in range(1, 1002):
            sheet[f"{column}{row}"].number_format = "@"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _rows_from_csv(content: bytes):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise BatchFileError(gettext("文件编码无法识别，请另存为 UTF-8 编码的 CSV 或使用 XLSX 模板"))
    yield from csv.reader(io.StringIO(text, newline=""))


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # A spreadsheet number: an amount typed as a number, or an ID/card that lost its text format.
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value).strip()


def _rows_from_xlsx(content: bytes):
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        sheet = workbook.get_sheet_by_index(0)
    except Exception:
        raise BatchFileError(gettext("无法读取该 Excel 文件，请使用下载的 XLSX 模板或另存为 CSV")) from None
    for row in sheet.iter_rows():  # nearly every cell is text: stripped here without a call per cell
        yield [value.strip() if value.__class__ is str else _cell_text(value) for value in row]


def _header_map(header: list[str]) -> dict[str, int]:
    normalised = [h.strip().replace(" ", "").lower() for h in header]
    positions: dict[str, int] = {}
    for key, title, aliases, _required in COLUMNS:
        for candidate in (title, *aliases):
            candidate = candidate.replace(" ", "").lower()
            if candidate in normalised:
                positions[key] = normalised.index(candidate)
                break
    missing = [title for key, title, _, required in COLUMNS if required and key not in positions]
    if missing:
        raise BatchFileError(gettext("第 1 行（表头）缺少列：{missing}。请使用下载的模板，表头须包含：{headers}").format(
            missing="、".join(missing), headers="、".join(TEMPLATE_HEADERS[:5])), extra={"missing_columns": missing})
    return positions


@dataclass
class RawBatch:
    """A file's rows as read, before any line is checked: ``rows`` = [(line number, cells)], blank rows left out;
    ``first_line_of_order`` = the line where each enterprise order number first appears (a later line with the same
    number is a duplicate, wherever the lines are checked)."""

    positions: dict[str, int]
    rows: list[tuple[int, list[str]]]
    first_line_of_order: dict[str, int]

    def id_text(self, cells: list[str]) -> str:
        """A row's ID number as typed (upper-cased, trimmed): the key a batch is split by worker with."""
        index = self.positions["id_number"]
        return cells[index].strip().upper() if index < len(cells) else ""


def read_batch_rows(content: bytes, *, filename: str, max_lines: int = MAX_LINES) -> RawBatch:
    """Read the rows of an uploaded batch file (fast: no line is checked). Raises BatchFileError for a file that
    cannot be read at all."""
    if len(content) > MAX_BYTES:
        raise BatchFileError(gettext("文件超过 {megabytes} MB，请拆分为多个批次上传").format(
            megabytes=MAX_BYTES // 1024 // 1024))
    lower = filename.lower()
    if lower.endswith(".csv"):
        rows = _rows_from_csv(content)
    elif lower.endswith(".xlsx"):
        if not content.startswith(b"PK"):
            raise BatchFileError(gettext("文件扩展名是 .xlsx，但内容不是 Excel 文件，请重新导出"))
        rows = _rows_from_xlsx(content)
    else:
        raise BatchFileError(gettext("只支持 CSV 或 XLSX 文件，请使用下载的模板"))
    rows = iter(rows)
    header = next(rows, None)
    if header is None:
        raise BatchFileError(gettext("文件是空的，请按模板填写后再上传"))
    positions = _header_map(header)
    order_index = positions.get("merchant_order_no")
    kept: list[tuple[int, list[str]]] = []
    first_line_of_order: dict[str, int] = {}
    for line_number, row in enumerate(rows, start=2):
        if not "".join(row).strip():  # a blank row (one call, not one per cell)
            continue
        if len(kept) >= max_lines:
            raise BatchFileError(gettext("单个批次最多 {max_lines} 行，请拆分后上传").format(max_lines=max_lines))
        kept.append((line_number, row))
        if order_index is not None and order_index < len(row):
            order_no = row[order_index].strip()
            if order_no:
                first_line_of_order.setdefault(order_no, line_number)
    if not kept:
        raise BatchFileError(gettext("文件中没有付款明细，请从第 2 行开始填写"))
    return RawBatch(positions=positions, rows=kept, first_line_of_order=first_line_of_order)


def parse_batch_file(content: bytes, *, filename: str, max_lines: int = MAX_LINES) -> ParsedBatch:
    """Read an uploaded batch file and check every line's format. Raises BatchFileError for a file that cannot be
    read at all; line problems come back in ``errors`` (nothing is created from a file that has any)."""
    raw = read_batch_rows(content, filename=filename, max_lines=max_lines)
    return check_batch_rows(raw, raw.rows)


def _checked(values: dict, key: str, fn, errors: list, line: int):
    """``fn(values[key])``; an empty cell or a DomainError is recorded in ``errors`` and gives None."""
    text = values.get(key, "")
    if not text:
        errors.append(LineError(line, COLUMN_LABELS[key], gettext_lazy("不能为空")))
        return None
    try:
        return fn(text)
    except DomainError:
        errors.append(LineError(line, COLUMN_LABELS[key], _lazy_message_of(fn, text)))
        return None


def check_batch_rows(raw: RawBatch, rows: list[tuple[int, list[str]]]) -> ParsedBatch:
    """Check the format of ``rows`` (all of ``raw.rows``, or a part of them: the checks are per line, apart from
    duplicate order numbers, which ``raw`` knows across the whole file)."""
    positions = raw.positions
    keys, indexes = list(positions), list(positions.values())
    width = max(indexes) + 1
    empty, name_label, account_label = gettext_lazy("不能为空"), COLUMN_LABELS["name"], COLUMN_LABELS["account"]
    lines: list[BatchLine] = []
    errors: list[LineError] = []
    first_line_of_order = raw.first_line_of_order
    today = timezone.localdate()
    # the validators, made once (a batch checks up to 100,000 lines)
    resident_id = partial(validate_resident_id, field_label=COLUMN_LABELS["id_number"], today=today)
    mobile = partial(validate_mobile, field_label=COLUMN_LABELS["phone"])
    amount_of = partial(money.parse_yuan, allow_zero=False, field=COLUMN_LABELS["amount"])
    for line_number, row in rows:
        if len(row) >= width:
            values = dict(zip(keys, [row[index].strip() for index in indexes], strict=True))
        else:
            values = {key: (row[index].strip() if index < len(row) else "") for key, index in positions.items()}
        line_errors: list[LineError] = []
        name = values.get("name", "")
        if not name:
            line_errors.append(LineError(line_number, name_label, empty))
        elif len(name) > 50:
            line_errors.append(LineError(line_number, name_label, gettext_lazy("超过 50 个字符")))
        resident = _checked(values, "id_number", resident_id, line_errors, line_number)
        phone = _checked(values, "phone", mobile, line_errors, line_number)
        account_text = values.get("account", "")
        warnings: list[str] = []
        if not account_text:
            line_errors.append(LineError(line_number, account_label, empty))
        elif _CARD_TEXT_RE.fullmatch(account_text):
            try:
                card = validate_bank_card(account_text, field_label=account_label)
                account_text, warnings = card.number, card.warnings
            except DomainError:
                line_errors.append(LineError(line_number, account_label, _lazy_message_of(
                    validate_bank_card, account_text, field_label=account_label)))
        elif len(account_text) > 64:
            line_errors.append(LineError(line_number, account_label, gettext_lazy("超过 64 个字符")))
        amount = _checked(values, "amount", amount_of, line_errors, line_number)
        order_no = values.get("merchant_order_no", "")
        if order_no and first_line_of_order.get(order_no, line_number) != line_number:
            line_errors.append(LineError(line_number, COLUMN_LABELS["merchant_order_no"], format_lazy(
                gettext_lazy("与第 {line} 行重复，每笔付款的企业订单号须唯一"), line=first_line_of_order[order_no])))
        if line_errors:
            errors.extend(line_errors)
            continue
        lines.append(BatchLine(line=line_number, name=name, id_number=resident.number, phone=phone,
                               account=account_text, amount_fen=amount, remark=values.get("remark", "")[:200],
                               task_ref=values.get("task_ref", ""), merchant_order_no=order_no, warnings=warnings))
    return ParsedBatch(lines=lines, errors=errors)
