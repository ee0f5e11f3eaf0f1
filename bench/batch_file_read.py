"""Benchmark: read and check a 100,000-line batch payment file (XLSX and CSV).

    .venv/bin/python bench/batch_file_read.py [--lines 100000]

Prints the seconds to parse + validate every line and the peak memory of the process; exits non-zero when the
XLSX read takes more than 3 s (issue 6's target).
"""

import argparse
import io
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LINGGONG_ENV", "test")

import django  # noqa: E402

django.setup()

from core.validators import id_check_char  # noqa: E402
from payouts.batch_file import TEMPLATE_HEADERS, parse_batch_file  # noqa: E402


def rows(n: int):
    for i in range(n):
        body = f"120101{1970 + i % 30}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
        yield [f"工人{i}", body + id_check_char(body), f"138{i:08d}", f"62284804025648{i:05d}",
               f"{100 + i % 5000}.{i % 100:02d}", "服务费", f"T{i % 500}", f"ORD{i:07d}"]


def make_xlsx(n: int) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("批量付款")
    sheet.append(TEMPLATE_HEADERS)
    for row in rows(n):
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def make_csv(n: int) -> bytes:
    lines = [",".join(TEMPLATE_HEADERS)] + [",".join(row) for row in rows(n)]
    return "\n".join(lines).encode("utf-8")


def parse_in_this_process(path: str) -> None:
    """Child mode: parse one file and print seconds and this process's peak memory as JSON."""
    import json

    with open(path, "rb") as handle:
        content = handle.read()
    start = time.perf_counter()
    parsed = parse_batch_file(content, filename=path)
    seconds = time.perf_counter() - start
    assert not parsed.errors, parsed.errors[:3]
    print(json.dumps({"lines": len(parsed.lines), "seconds": seconds,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> int:
    import json
    import subprocess
    import tempfile

    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--parse", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.parse:
        parse_in_this_process(args.parse)
        return 0
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, maker in (("xlsx", make_xlsx), ("csv", make_csv)):
            path = os.path.join(folder, f"batch.{label}")
            with open(path, "wb") as handle:
                handle.write(maker(args.lines))
            # Each file is read in a fresh process, so its peak memory is the reader's own.
            output = subprocess.run([sys.executable, __file__, "--parse", path], capture_output=True, text=True,
                                    check=True).stdout
            results[label] = json.loads(output.strip().splitlines()[-1])
            results[label]["mb"] = os.path.getsize(path) / 1e6
    for label, figures in results.items():
        assert figures["lines"] == args.lines
        print(f"{label}: {args.lines} lines ({figures['mb']:.1f} MB) read and checked in {figures['seconds']:.2f} s, "
              f"peak {figures['peak_mb']:.0f} MB")
    print("command: .venv/bin/python bench/batch_file_read.py --lines", args.lines)
    ok = results["xlsx"]["seconds"] <= 3.0 and max(f["peak_mb"] for f in results.values()) <= 300
    print("target: a 100,000-line XLSX read in ≤ 3 s, no process above 300 MB →", "MET" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
