import io

import pytest
from django.template import Context, Template
from pypdf import PdfReader

from core.documents import render_html_to_pdf
from core.signing import ensure_platform_certificate, sign_pdf, verify_pdf

HTML = Template("""{% extends "documents/base.html" %}{% block body %}<h1>合作协议</h1>
<p>甲方：{{ merchant }}　乙方：{{ worker }}　服务费：{{ amount }} 元</p>{% endblock %}""")


def _pdf() -> bytes:
    html = HTML.render(Context({"merchant": "天津快送同城配送有限公司", "worker": "张伟", "amount": "1,234.56",
                                "PLATFORM_LEGAL_NAME": "灵工平台"}))
    return render_html_to_pdf(html)


@pytest.mark.django_db
class TestPlatformSignature:
    def test_rendered_pdf_keeps_the_chinese_text_with_an_embedded_font(self):
        reader = PdfReader(io.BytesIO(_pdf()))
        text = reader.pages[0].extract_text()
        assert "天津快送同城配送有限公司" in text
        assert "张伟" in text and "1,234.56" in text
        fonts = reader.pages[0]["/Resources"]["/Font"]
        assert any("/FontFile2" in str(font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object())
                   for font in fonts.values())

    def test_signed_pdf_verifies_and_names_the_platform(self):
        signed = sign_pdf(_pdf(), reason="平台签章")
        check = verify_pdf(signed.content)
        assert check.ok
        assert check.count == 1
        assert "电子签章" in check.signer

    def test_a_changed_byte_breaks_the_signature(self):
        signed = sign_pdf(_pdf(), reason="平台签章")
        tampered = signed.content.replace(b"/Producer", b"/Producex", 1)
        assert not verify_pdf(tampered).ok

    def test_unsigned_pdf_does_not_verify(self):
        check = verify_pdf(_pdf())
        assert check.count == 0 and not check.ok

    def test_certificate_is_created_once_and_its_key_is_encrypted(self):
        first = ensure_platform_certificate()
        assert ensure_platform_certificate().pk == first.pk
        assert "PRIVATE KEY" not in first.key_pem_encrypted
