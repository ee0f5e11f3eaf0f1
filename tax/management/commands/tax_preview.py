"""Print a what-if: a new worker paid once a month for consecutive months, one JSON line per month.

    python manage.py tax_preview --date 2026-03-15 --monthly 12000,12000,12000
    python manage.py tax_preview --date 2025-09-15 --monthly 3000,3000 --route LABOR_PER_PAYMENT
    python manage.py tax_preview --date 2026-01-10 --monthly 100000 --bearer MERCHANT --location COUNTY
"""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import DomainError
from core.money import parse_yuan
from tax import engine
from tax.preview import ROUTE_CHOICES, as_yuan, tax_preview


class Command(BaseCommand):
    help = "Preview gross, IIT, VAT, each surcharge and net for consecutive months (JSON lines, amounts in yuan)."

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, help="the first month's tax-liability date, YYYY-MM-DD")
        parser.add_argument("--monthly", required=True, help="comma-separated yuan amounts, one per month")
        parser.add_argument("--route", default="AUTO", choices=ROUTE_CHOICES)
        parser.add_argument("--bearer", default="WORKER", choices=["WORKER", "MERCHANT"],
                            help="MERCHANT: the amounts are what the worker nets (gross-up)")
        parser.add_argument("--location", default=None, choices=list(engine.LOCATIONS),
                            help="城建税 location (default: from the tax settings)")
        parser.add_argument("--explain", action="store_true", help="include every line's formula")

    def handle(self, *args, **options):
        try:
            start = dt.date.fromisoformat(options["date"])
        except ValueError:
            raise CommandError("--date must be YYYY-MM-DD") from None
        try:
            monthly = [parse_yuan(part.strip(), allow_zero=False, field="--monthly")
                       for part in options["monthly"].split(",")]
            rows = tax_preview(start=start, monthly_fen=monthly, route=options["route"], bearer=options["bearer"],
                               location=options["location"])
        except DomainError as error:
            raise CommandError(error.message) from None
        for row in rows:
            out = as_yuan(row)
            if options["explain"]:
                out["explain"] = [f"{line['label']}：{line['formula']}" for line in row["lines"]]
            self.stdout.write(json.dumps(out, ensure_ascii=False))
