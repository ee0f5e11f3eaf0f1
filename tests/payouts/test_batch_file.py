import io

import pytest
from openpyxl import Workbook

from payouts.batch_file import BatchFileError, parse_batch_file, template_csv, template_xlsx

HEADER = "姓名,身份证号,手机号,收款账号,金额,备注,任务编号,企业订单号\n"
GOOD = "张伟,11010519491231002X,13800000001,6228480402564890018,1200.00,三月,T1,O1\n"


def csv_bytes(*lines: str, header: str = HEADER) -> bytes:
    return (header + "".join(lines)).encode("utf-8")


class TestCsv:
    def test_reads_a_good_file(self):
        parsed = parse_batch_file(csv_bytes(GOOD, "王芳,360426199101010071,13800000002,zhang@example.com,0.50,,,O2\n"),
                                  filename="batch.csv")
        assert parsed.errors == []
        assert [line.amount_fen for line in parsed.lines] == [120000, 50]
        assert parsed.lines[0].line == 2 and parsed.lines[1].account == "zhang@example.com"
        assert parsed.total_fen == 120050

    def test_every_bad_line_is_reported_with_line_column_and_reason(self):
        parsed = parse_batch_file(csv_bytes(
            GOOD,
            "李娜,110105194912310021,13800000003,6228480402564890018,100.00,,,O3\n",   # bad check char
            "刘洋,440524188001010014,12345,6228480402564890018,1.234,,,O4\n",           # bad phone and amount
            ",360426199101010071,13800000005,6228480402564890018,-5,,,O1\n",             # no name, negative, dup order
        ), filename="b.csv")
        assert [line.line for line in parsed.lines] == [2]
        problems = {(e.line, e.column) for e in parsed.errors}
        assert {(3, "身份证号"), (4, "手机号"), (4, "金额"), (5, "姓名"), (5, "金额"), (5, "企业订单号")} <= problems
        duplicate = next(e for e in parsed.errors if e.column == "企业订单号")
        assert "第 2 行重复" in duplicate.message
        assert "超过两位小数" in next(e.message for e in parsed.errors if (e.line, e.column) == (4, "金额"))

    def test_columns_are_matched_by_header_in_any_order_with_aliases(self):
        parsed = parse_batch_file(
            "金额（元）,收款人姓名,证件号码,手机号码,银行卡号\n88.80,张伟,11010519491231002x,13800000001,6228480402564890018\n"
            .encode(), filename="b.csv")
        assert parsed.errors == [] and parsed.lines[0].amount_fen == 8880
        assert parsed.lines[0].id_number == "11010519491231002X"

    def test_missing_required_column_names_them(self):
        with pytest.raises(BatchFileError, match="缺少列：金额"):
            parse_batch_file("姓名,身份证号,手机号,收款账号\n".encode(), filename="b.csv")

    def test_gbk_encoded_csv_from_excel_is_read(self):
        parsed = parse_batch_file((HEADER + GOOD).encode("gbk"), filename="b.csv")
        assert parsed.lines[0].name == "张伟"

    def test_luhn_failure_is_a_warning_not_an_error(self):
        parsed = parse_batch_file(csv_bytes(GOOD.replace("6228480402564890018", "6228480402564890019")), filename="b.csv")
        assert parsed.errors == [] and "Luhn" in parsed.lines[0].warnings[0]

    @pytest.mark.parametrize(("content", "name", "message"), [
        (b"", "b.csv", "空的"), (b"x", "b.pdf", "只支持 CSV 或 XLSX"), (b"not a zip", "b.xlsx", "不是 Excel"),
        (HEADER.encode(), "b.csv", "没有付款明细"),
    ])
    def test_unreadable_files_are_refused_whole(self, content, name, message):
        with pytest.raises(BatchFileError, match=message):
            parse_batch_file(content, filename=name)

    def test_line_limit(self):
        with pytest.raises(BatchFileError, match="最多 2 行"):
            parse_batch_file(csv_bytes(GOOD, GOOD.replace("O1", "O2"), GOOD.replace("O1", "O3")), filename="b.csv",
                             max_lines=2)


class TestXlsx:
    def test_template_round_trips(self):
        parsed = parse_batch_file(template_xlsx(), filename="t.xlsx")
        assert parsed.errors == [] and parsed.lines[0].amount_fen == 120000
        assert parse_batch_file(template_csv(), filename="t.csv").lines[0].id_number == "11010519491231002X"

    def test_numeric_cells_are_read_as_text(self):
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(["姓名", "身份证号", "手机号", "收款账号", "金额"])
        sheet.append(["张伟", "11010519491231002X", 13800000001, "6228480402564890018", 1200])
        sheet.append(["王芳", "360426199101010071", 13800000002, "6228480402564890018", 99.5])
        output = io.BytesIO()
        workbook.save(output)
        parsed = parse_batch_file(output.getvalue(), filename="b.xlsx")
        assert parsed.errors == []
        assert [line.amount_fen for line in parsed.lines] == [120000, 9950]
        assert parsed.lines[0].phone == "13800000001"
