"""收入纳税明细: a worker's income and tax statement for a year, as a PDF with a verification code and QR.

The PDF carries the platform's digital signature (``core.signing``). The code is checked by the public page
``/verify/tax/<code>/``, which shows what the statement said (masked) and the signed PDF's SHA-256. The platform cannot issue a 完税证明: the statement says the official 纳税记录 comes from the 个税 App.
"""

from __future__ import annotations

import secrets

import segno
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext

from core import audit
from core.documents import render_pdf
from core.money import format_yuan
from core.pii import mask_id_number, mask_name
from core.signing import sign_pdf
from tax import engine, selectors
from tax.exceptions import StatementNotFound
from tax.models import TaxStatement

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed from paper


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))


def verify_url(code: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/verify/tax/{code}/"


def _summary(*, member, year: int) -> dict:
    data = selectors.member_year_summary(member=member, year=year)
    months = [{key: (format_yuan(value) if key.endswith("_fen") else value) for key, value in row.items()}
              for row in data["months"]]
    totals = {key: format_yuan(value) for key, value in data["totals"].items()}
    accounts = [{"entity": a.entity_code, "income": format_yuan(a.income_fen), "iit": format_yuan(a.iit_fen),
                 "consecutive_months": a.consecutive_months, "last_month": a.last_month} for a in data["accounts"]]
    return {"year": year, "months": months, "totals": totals, "accounts": accounts,
            "name_masked": mask_name(member.name), "id_masked": mask_id_number(member.id_number)}


def tax_statement_issue(*, member, year: int, now, actor=None) -> TaxStatement:
    """Render and keep the year's statement; returns the row (its file is the PDF). Raises StatementNotFound when the
    worker has no income recorded that year."""
    if not member.withholdings.filter(liability_date__year=year).exists():
        raise StatementNotFound(gettext("{year}年没有您的收入记录，无法开具收入纳税明细").format(year=year))
    summary = _summary(member=member, year=year)
    code = new_code()
    url = verify_url(code)
    rows = selectors.member_withholdings(member=member, year=year)
    document = render_pdf("tax/statement.html", {
        "member_name": member.name, "id_masked": summary["id_masked"], "summary": summary, "code": code,
        "verify_url": url, "qr": segno.make(url, error="m").png_data_uri(scale=3), "issued_at": now,
        "rows": rows, "routes": engine.ROUTES,
        "entity_name": selectors.tax_settings().entity_name or settings.PLATFORM_LEGAL_NAME,
    })
    signed = sign_pdf(document.content, reason=f"收入纳税明细 验证码 {code}")  # the platform's digital seal
    with transaction.atomic():
        statement = TaxStatement(member=member, year=year, code=code, summary=summary, sha256=signed.sha256,
                                 issued_at=now)
        statement.file.save(f"statement-{year}-{code}.pdf", ContentFile(signed.content), save=False)
        statement.save()
        audit.record(event="tax.statement.issued", now=now, actor=actor, subject=statement,
                     after={"year": year, "code": code, "sha256": signed.sha256})
    return statement
