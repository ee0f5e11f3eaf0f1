"""English is real: with the language cookie set to English the portals render English, service errors arrive in
English, and the compiled catalogue has a translation for every string (Chinese stays the default)."""

import gettext
import re
from pathlib import Path

import pytest
import time_machine
from django.conf import settings

from core.testing.factories import EnterpriseUserFactory, MerchantFactory

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]+")
PO = Path(settings.BASE_DIR) / "locale/en/LC_MESSAGES/django.po"


def english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302 and client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    return client


def visible_chinese(html: str) -> set[str]:
    """Chinese runs in the page's text (scripts and styles dropped), except the language switch's own name."""
    text = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return set(CJK.findall(text)) - {"简体中文"}


class TestEnterprisePortal:
    def test_login_page_is_english_and_chinese_by_default(self, client):
        page = client.get("/enterprise/login/").content.decode()
        assert "企业登录" in page or "企业用户登录" in page
        assert client.get("/enterprise/login/")["Content-Language"] == "zh-hans"

        response = english(client).get("/enterprise/login/")
        page = response.content.decode()
        assert response["Content-Language"] == "en"
        assert "Sign in" in page and "Login name" in page and "Password" in page
        assert visible_chinese(page) == set()

    def test_a_failed_sign_in_is_explained_in_english(self, client):
        EnterpriseUserFactory(username="boss", merchant=MerchantFactory())
        page = english(client).post("/enterprise/login/", {"username": "boss", "password": "wrong-password"})
        page = page.content.decode()
        assert "Incorrect login name or password" in page and "登录名或密码不正确" not in page

    def test_dashboard_and_navigation(self, client, enterprise_admin):
        client.force_login(enterprise_admin)
        page = english(client).get("/enterprise/").content.decode()
        assert "Tasks" in page and "Sign out" in page
        assert "退出" not in page and "任务" not in visible_chinese(page)

    @pytest.mark.parametrize(("language", "expected", "absent"), [
        ("en", "is outside the range", "超出"), (None, "超出“同城配送”类目的合理范围", "outside the range")])
    def test_an_error_raised_by_a_service_is_shown_in_the_chosen_language(self, client, enterprise_admin, merchant,
                                                                          language, expected, absent):
        from tasks.models import Task
        from tests.tasks.factories import NOW, approve_category, category
        from tests.tasks.test_pages import form_payload

        approve_category(merchant, category())
        client.force_login(enterprise_admin)
        if language:
            english(client)
        with time_machine.travel(NOW, tick=False):
            response = client.post("/enterprise/tasks/new/", form_payload(unit_price="9999.00", budget="99999.00"))
        page = response.content.decode()
        assert response.status_code == 200 and not Task.objects.exists()
        assert expected in page and absent not in page  # tasks.rules raises PriceOutOfBounds from task_create


class TestWorkerMobile:
    @pytest.fixture
    def worker(self, client, worker_user):
        client.force_login(worker_user)
        return english(client)

    def test_home(self, worker):
        page = worker.get("/m/").content.decode()
        assert "Find tasks" in page and "My tasks" in page and "Identity verification" in page
        assert "找任务" not in page and "实名认证" not in visible_chinese(page)

    def test_tasks_list(self, worker):
        response = worker.get("/m/tasks/")
        page = response.content.decode()
        assert response.status_code == 200
        assert "Tasks nearby" in page and "附近的任务" not in page

    def test_sms_code_errors_are_english(self, client):
        response = english(client).post("/m/login/", {"phone": "13800000000", "code": "123456"})
        assert "Please request a code first" in response.content.decode()


def _entries(text: str):
    """(msgid, msgstr) pairs of a --no-wrap catalogue, header excluded."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r'^msgid "(.*)"\nmsgstr "(.*)"$', text, flags=re.M)
            if m.group(1)]


def test_the_catalogue_translates_every_string():
    text = PO.read_text(encoding="utf-8")
    entries = _entries(text)
    assert len(entries) > 1000
    empty = [msgid for msgid, msgstr in entries if not msgstr]
    assert empty == [], f"{len(empty)} strings without English, e.g. {empty[:5]}"
    assert "#, fuzzy" not in text, "a fuzzy guess from msgmerge would be shown as if it were a translation"
    assert "msgid_plural" not in text or "msgstr[0] \"\"" not in text


def test_the_compiled_catalogue_matches_the_source():
    """locale/en/LC_MESSAGES/django.mo is what Django reads: it must carry every translation of the .po."""
    with PO.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    unescape = lambda s: s.encode("latin-1", "backslashreplace").decode("unicode_escape")  # noqa: E731
    stale = [msgid for msgid, msgstr in _entries(PO.read_text(encoding="utf-8"))
             if compiled.gettext(unescape(msgid)) != unescape(msgstr)]
    assert stale == [], f"{len(stale)} strings differ between django.po and django.mo (run scripts/i18n.py)"


def test_translations_keep_their_placeholders():
    """A msgstr that drops or renames {name} / %(name)s would raise KeyError (or lose the value) at run time."""
    brace, percent = re.compile(r"\{(\w*)[^{}]*\}"), re.compile(r"%\((\w+)\)s")
    bad = []
    for msgid, msgstr in _entries(PO.read_text(encoding="utf-8")):
        for pattern in (brace, percent):
            if sorted(pattern.findall(msgid)) != sorted(pattern.findall(msgstr)):
                bad.append((msgid, msgstr))
    assert bad == []


def test_documents_stay_chinese_when_the_reader_chose_english(merchant, monkeypatch):
    """Agreements, statements and filings are Chinese documents by law: an English session must not leak into them."""
    from django.utils import translation

    import core.documents
    from merchants.documents import agreement_terms
    from merchants.selectors import merchant_configuration

    seen = {}
    monkeypatch.setattr(core.documents, "render_to_string",
                        lambda name, context: seen.setdefault("language", translation.get_language()) and "<p></p>")
    monkeypatch.setattr(core.documents, "render_html_to_pdf", lambda html: b"%PDF-1.7")
    with translation.override("en"):
        terms = agreement_terms(merchant=merchant, config=merchant_configuration(merchant=merchant))
        core.documents.render_pdf("merchants/documents/service_agreement_2026_1.html", {})
        assert translation.get_language() == "en"
    assert CJK.search(terms["fee_bearer"]) and CJK.search(terms["tax_bearer"]), terms
    assert seen["language"] == settings.LANGUAGE_CODE
