"""Proof files: what is accepted (by the file's own bytes, not its name or the browser's claim), how big, the checksum.

Files go to Django's default storage (MEDIA_ROOT) under a name derived from their SHA-256, never under the
uploader's name, and are served only by views that check the tenant.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tasks.exceptions import ProofInvalid

MAX_PROOF_BYTES = getattr(settings, "TASKS_PROOF_MAX_BYTES", 10 * 1024 * 1024)
MAX_PROOF_FILES = 9

PHOTO_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "image/heic": "HEIC"}
FILE_TYPES = {**PHOTO_TYPES, "application/pdf": "PDF",
              "application/zip": gettext_lazy("Office 文档（docx/xlsx）"), "text/plain": gettext_lazy("文本")}


def sniff_content_type(head: bytes) -> str | None:
    """The content type told by the first bytes of a file; None when it is none of the accepted kinds."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        return "image/heic"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        return "application/zip"
    if head and b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return "text/plain"
    return None


@dataclass
class CheckedUpload:
    upload: object  # a Django UploadedFile (or anything with name, size, chunks(), seek())
    kind: str  # ProofFile.Kind value
    content_type: str
    size: int
    sha256: str
    original_name: str


def check_upload(upload, *, kind: str, index: int) -> CheckedUpload:
    """Check one uploaded file's size and type and compute its SHA-256. Raises ProofInvalid naming the file."""
    name = (getattr(upload, "name", "") or f"第{index}个文件").rsplit("/", 1)[-1][:120]
    size = getattr(upload, "size", None) or 0
    if size <= 0:
        raise ProofInvalid(_("文件“{kind}”是空的，请重新选择").format(kind=name), extra={"file": name})
    if size > MAX_PROOF_BYTES:
        raise ProofInvalid(_("文件“{kind}”有 {value:.1f} MB，超过 {value2} MB 上限，请压缩后再上传").format(kind=name, value=size / 1024 / 1024, value2=MAX_PROOF_BYTES // 1024 // 1024), extra={"file": name, "size": size, "max": MAX_PROOF_BYTES})
    digest = hashlib.sha256()
    head = b""
    upload.seek(0)
    for chunk in upload.chunks():
        if len(head) < 64:
            head += chunk[: 64 - len(head)]
        digest.update(chunk)
    upload.seek(0)
    content_type = sniff_content_type(head)
    allowed = PHOTO_TYPES if kind == "PHOTO" else FILE_TYPES
    if content_type not in allowed:
        raise ProofInvalid(_("文件“{kind}”不是可接受的{value}格式（可接受：{value2}）").format(kind=name, value=_('照片') if kind == 'PHOTO' else _('文件'), value2='、'.join(dict.fromkeys(str(label) for label in allowed.values()))),
                           extra={"file": name, "kind": kind})
    return CheckedUpload(upload=upload, kind=kind, content_type=content_type, size=size, sha256=digest.hexdigest(),
                         original_name=name)
