"""Worker lists uploaded by enterprises (CSV or XLSX: 姓名, 身份证号, 手机号) and their downloadable templates.

``read_worker_list`` checks the file itself (type, size, header, row count) and returns the raw rows with their line
numbers as the enterprise sees them in a spreadsheet (the header is line 1). Row values are validated by the service.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from members import conf
from members.exceptions import UploadRejected

COLUMNS = ["姓名", "身份证号", "手机号"]
EXAMPLE = ["张三", "110105199001011234", "13800000000"]
_XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Row:
    line: int
    name: str
    id_number: str
    phone: str
    problem: tuple[str, str] | None = None  # (column, message) found while reading the cell itself


def _reject(message: str, *, column: str = "", line: int | None = None) -> UploadRejected:
    error = {"line": line, "column": column, "message": message}
    return UploadRejected(message, extra={"errors": [error]})


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value).strip()


def read_worker_list(*, filename: str, content: bytes) -> list[Row]:
    """Parse an uploaded worker list. Raises UploadRejected (type, size, encoding, header, empty, too many rows)."""
    lower = (filename or "").lower()
    max_bytes = int(conf.get("MEMBERS_UPLOAD_MAX_BYTES"))
    if not lower.endswith((".csv", ".xlsx")):
        raise _reject(f"文件“{filename}”的类型不支持：请上传 .csv 或 .xlsx 文件（可先下载模板填写）")
    if len(content) > max_bytes:
        raise _reject(f"文件过大（{len(content) / 1024 / 1024:.1f} MB），单个文件不超过 {max_bytes // 1024 // 1024} MB，"
                      "请拆分后分批上传")
    if not content:
        raise _reject("文件是空的，请按模板填写后再上传")
    if lower.endswith(".xlsx"):
        table = _read_xlsx(content, filename)
    else:
        table = _read_csv(content, filename)
    while table and not any(_cell(value) for value in table[-1]):
        table.pop()
    if not table:
        raise _reject("文件是空的，请按模板填写后再上传")
    header = [_cell(value) for value in table[0]][:3]
    if header != COLUMNS:
        raise _reject(f"第 1 行表头应为“{'、'.join(COLUMNS)}”，实际为“{'、'.join(header)}”。请下载模板，按模板的列顺序填写",
                      line=1)
    rows = []
    for offset, values in enumerate(table[1:], start=2):
        cells = [_cell(value) for value in values] + ["", "", ""]
        if not any(cells[:3]):
            continue
        problem = None
        if isinstance(values[1] if len(values) > 1 else None, int | float) and not isinstance(values[1], bool):
            # Excel keeps 15 significant digits: an ID number typed into a number cell has lost its last digits.
            problem = ("身份证号", "身份证号被 Excel 存成了数字，末尾几位已丢失：请把该列设为“文本”格式后重新输入号码")
        rows.append(Row(line=offset, name=cells[0], id_number=cells[1], phone=cells[2], problem=problem))
    if not rows:
        raise _reject("文件中没有人员数据：请从第 2 行起每行填写一名人员")
    max_rows = int(conf.get("MEMBERS_UPLOAD_MAX_ROWS"))
    if len(rows) > max_rows:
        raise _reject(f"一次最多导入 {max_rows} 人，本文件有 {len(rows)} 人，请拆分后分批上传")
    return rows


def _read_csv(content: bytes, filename: str) -> list[list]:
    if content.startswith(_XLSX_MAGIC) or b"\x00" in content[:1024]:
        raise _reject(f"文件“{filename}”不是文本格式的 CSV（可能是改了扩展名的 Excel 文件），请另存为 CSV 或直接上传 .xlsx")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly anything
        raise _reject("无法识别文件编码，请以 UTF-8 编码另存为 CSV")
    return [row for row in csv.reader(io.StringIO(text))]


def _read_xlsx(content: bytes, filename: str) -> list[list]:
    from python_calamine import CalamineWorkbook

    if not content.startswith(_XLSX_MAGIC):
        raise _reject(f"文件“{filename}”不是有效的 .xlsx 文件（内容与扩展名不符），请用 Excel 另存为 .xlsx 后上传")
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        return workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception:  # calamine raises several error types for damaged files
        raise _reject(f"文件“{filename}”已损坏或无法读取，请用 Excel 重新保存为 .xlsx 后上传") from None


def template_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerow(EXAMPLE)
    return buffer.getvalue().encode("utf-8-sig")  # the BOM lets Excel open the Chinese header correctly


def template_xlsx() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "人员名单"
    sheet.append(COLUMNS)
    sheet.append(EXAMPLE)
    for column, width in zip("ABC", (14, 24, 16), strict=True):
        sheet.column_dimensions[column].width = width
        for cell in sheet[column]:
            cell.number_format = "@"  # text: Excel must not turn an 18-digit ID number into 1.10105E+17
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
