"""PDF documents: HTML templates rendered by WeasyPrint, in Chinese, with an embedded CJK font.

``render_pdf(template, context)`` returns PDF bytes. Templates extend ``documents/base.html``, which sets the page,
the CJK font stack and the footer. Render in jobs or services, never while holding row locks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation


@dataclass(frozen=True)
class RenderedDocument:
    content: bytes
    sha256: str


def render_html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported lazily: Pango is loaded only when a PDF is made

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def render_pdf(template_name: str, context: dict) -> RenderedDocument:
    """Documents are Chinese whatever language the person who triggers them reads the site in."""
    with translation.override(settings.LANGUAGE_CODE):
        html = render_to_string(template_name, {"PLATFORM_LEGAL_NAME": settings.PLATFORM_LEGAL_NAME,
                                                "PLATFORM_USCC": settings.PLATFORM_USCC, **context})
    content = render_html_to_pdf(html)
    return RenderedDocument(content=content, sha256=sha256_hex(content))


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
