"""Refresh the English catalogue: extract strings, fill translations from scripts/i18n_en.py, compile.

    .venv/bin/python scripts/i18n.py

Chinese is the source language; an untranslated string falls back to Chinese. The script prints how many strings
are still untranslated so the gap is visible.
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from i18n_en import EN  # noqa: E402

PO = ROOT / "locale/en/LC_MESSAGES/django.po"


def main() -> None:
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "en", "--no-wrap", "--no-obsolete",
                    "--ignore=.venv", "--ignore=var", "--ignore=tests", "--ignore=bench", "-v0"], cwd=ROOT, check=True)
    text = PO.read_text(encoding="utf-8")
    missing = []

    def fill(match: re.Match) -> str:
        msgid = match.group(1)
        translated = EN.get(msgid.encode().decode("unicode_escape") if "\\" in msgid else msgid)
        if not translated:
            missing.append(msgid)
            return match.group(0)
        escaped = translated.replace("\\", "\\\\").replace('"', '\\"')
        return f'msgid "{msgid}"\nmsgstr "{escaped}"'

    text = re.sub(r'msgid "(.+)"\nmsgstr ""', fill, text)
    text = text.replace("#, fuzzy\n", "")
    PO.write_text(text, encoding="utf-8")
    subprocess.run([sys.executable, "manage.py", "compilemessages", "-l", "en", "-v0"], cwd=ROOT, check=True)
    print(f"{len(missing)} strings untranslated")
    for msgid in missing[:40]:
        print("  ", msgid)


if __name__ == "__main__":
    main()
