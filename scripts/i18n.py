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
        key = msgid.encode("latin-1", "backslashreplace").decode("unicode_escape") if "\\" in msgid else msgid
        translated = EN.get(key)
        if not translated:
            missing.append(msgid)
            return f'msgid "{msgid}"\nmsgstr ""'
        escaped = translated.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'msgid "{msgid}"\nmsgstr "{escaped}"'

    # Every msgstr comes from EN (msgmerge's fuzzy guesses for new strings are never kept).
    text = re.sub(r'msgid "(.+)"\nmsgstr "(.*)"', fill, text)
    text = re.sub(r"^#, fuzzy\n|^#\| .*\n", "", text, flags=re.MULTILINE)
    text = re.sub(r"^#, fuzzy, ", "#, ", text, flags=re.MULTILINE)
    PO.write_text(text, encoding="utf-8")
    subprocess.run([sys.executable, "manage.py", "compilemessages", "-l", "en", "-v0"], cwd=ROOT, check=True)
    print(f"{len(missing)} strings untranslated")
    for msgid in missing[:40]:
        print("  ", msgid)


if __name__ == "__main__":
    main()
