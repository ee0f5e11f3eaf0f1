"""Uploaded files: the type is decided by the content (magic bytes), never by the name or the browser's claim."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from merchants.exceptions import FileRejected

LICENCE_MAX_BYTES = 5 * 1024 * 1024

# (content type, extensions allowed for it, leading bytes)
_SIGNATURES = (
    ("application/pdf", {".pdf"}, (b"%PDF-",)),
    ("image/png", {".png"}, (b"\x89PNG\r\n\x1a\n",)),
    ("image/jpeg", {".jpg", ".jpeg"}, (b"\xff\xd8\xff",)),
)
_LABEL = {"application/pdf": "PDF", "image/png": gettext_lazy("PNG 图片"), "image/jpeg": gettext_lazy("JPG 图片")}


@dataclass(frozen=True)
class CheckedFile:
    content: bytes
    content_type: str
    sha256: str
    name: str


def sniff(content: bytes) -> tuple[str, set[str]] | None:
    for content_type, extensions, prefixes in _SIGNATURES:
        if any(content.startswith(prefix) for prefix in prefixes):
            return content_type, extensions
    return None


def check_licence_file(*, content: bytes, name: str, max_bytes: int = LICENCE_MAX_BYTES) -> CheckedFile:
    """Accept a JPG, PNG or PDF of at most ``max_bytes``. Raises FileRejected with what to do."""
    name = os.path.basename(name or "upload")
    if not content:
        raise FileRejected(_("上传的文件是空的，请重新选择营业执照文件"), extra={"form_field": "file"})
    if len(content) > max_bytes:
        raise FileRejected(
            _("文件大小为 {value:.1f} MB，超过 {value2} MB 的上限，请压缩或降低分辨率后重新上传").format(value=len(content) / 1024 / 1024, value2=max_bytes // 1024 // 1024),
            extra={"form_field": "file", "size": len(content), "max_bytes": max_bytes},
        )
    found = sniff(content)
    if found is None:
        raise FileRejected(_("文件类型不支持：营业执照仅支持 JPG、PNG 图片或 PDF 文件（按文件内容检测）"),
                           extra={"form_field": "file"})
    content_type, extensions = found
    extension = os.path.splitext(name)[1].lower()
    if extension and extension not in extensions:
        raise FileRejected(
            _("文件扩展名“{extension}”与文件内容（{value}）不一致，请上传原始文件").format(extension=extension, value=_LABEL[content_type]),
            extra={"form_field": "file"},
        )
    return CheckedFile(content=content, content_type=content_type, sha256=hashlib.sha256(content).hexdigest(),
                       name=name)


def as_django_file(checked: CheckedFile) -> ContentFile:
    return ContentFile(checked.content, name=checked.name)
