import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import DomainError
from tax.rulesets import ruleset_export, ruleset_import


class Command(BaseCommand):
    help = "Export a tax rule set as JSON, or import a new one from JSON (a new rule set is data, not code)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="print a rule set as JSON (a starting point for the next one)")
        export.add_argument("code")
        imp = sub.add_parser("import", help="validate and add a rule set from a JSON file")
        imp.add_argument("file")

    def handle(self, *args, **options):
        try:
            if options["action"] == "export":
                self.stdout.write(json.dumps(ruleset_export(code=options["code"]), ensure_ascii=False, indent=2))
                return
            with open(options["file"], encoding="utf-8") as handle:
                document = json.load(handle)
            rule_set = ruleset_import(document=document, now=timezone.now())
        except DomainError as error:
            raise CommandError(error.message) from None
        except (OSError, json.JSONDecodeError) as error:
            raise CommandError(_("无法读取规则集文件：{error}").format(error=error)) from None
        self.stdout.write(self.style.SUCCESS(f"已添加规则集 {rule_set}"))
