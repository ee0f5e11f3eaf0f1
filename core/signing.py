"""Digital signatures on PDFs with pyHanko, by the platform's own signing certificate.

The certificate is created at set-up (``ensure_platform_certificate``, called by ``make run`` and by the first
signature) and kept in ``core.SigningCertificate`` with its private key encrypted by the PII key. ``sign_pdf`` adds a
PAdES-style CMS signature; ``verify_pdf`` checks integrity and that it chains to the platform certificate.

A worker or an enterprise signer confirms with an SMS code; that consent (who, when, IP, document hash) is recorded
by the calling service and printed in the document, and the platform's digital signature seals the whole file.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.db import IntegrityError, transaction

from core import pii
from core.models import SigningCertificate

PLATFORM_CERT_NAME = "platform-document-signing"


def ensure_platform_certificate(*, now: dt.datetime | None = None, legal_name: str | None = None) -> SigningCertificate:
    """Return the platform signing certificate, creating a self-issued one (10 years) when there is none."""
    from django.conf import settings
    from django.utils import timezone

    existing = SigningCertificate.objects.filter(name=PLATFORM_CERT_NAME).first()
    if existing:
        return existing
    now = now or timezone.now()
    legal_name = legal_name or settings.PLATFORM_LEGAL_NAME
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, legal_name),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "电子签章"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"{legal_name} 电子签章"),
    ])
    not_before = now - dt.timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_before + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    try:
        with transaction.atomic():
            return SigningCertificate.objects.create(
                name=PLATFORM_CERT_NAME, subject=subject.rfc4514_string(),
                certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
                key_pem_encrypted=pii.encrypt(key_pem), not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
            )
    except IntegrityError:  # created concurrently by another process
        return SigningCertificate.objects.get(name=PLATFORM_CERT_NAME)


def _asn1(record: SigningCertificate):
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509

    cert = x509.load_pem_x509_certificate(record.certificate_pem.encode())
    key = serialization.load_pem_private_key(pii.decrypt(record.key_pem_encrypted).encode(), password=None)
    cert_der = cert.public_bytes(serialization.Encoding.DER)
    key_der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return asn1_x509.Certificate.load(cert_der), asn1_keys.PrivateKeyInfo.load(key_der)


@dataclass(frozen=True)
class SignedPdf:
    content: bytes
    sha256: str
    signer: str
    field_name: str


def sign_pdf(pdf: bytes, *, reason: str, location: str = "中国", field_name: str = "PlatformSignature") -> SignedPdf:
    """Seal ``pdf`` with the platform's digital signature; returns the signed bytes and their SHA-256."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    from core.documents import sha256_hex

    record = ensure_platform_certificate()
    cert, key = _asn1(record)
    signer = signers.SimpleSigner(signing_cert=cert, signing_key=key,
                                  cert_registry=SimpleCertificateStore.from_certs([cert]))
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(field_name=field_name, reason=reason, location=location)
    output = signers.sign_pdf(writer, meta, signer=signer)
    content = output.getvalue()
    return SignedPdf(content=content, sha256=sha256_hex(content), signer=record.subject, field_name=field_name)


@dataclass(frozen=True)
class SignatureCheck:
    count: int
    intact: bool
    valid: bool
    trusted: bool
    signer: str
    covers_whole_file: bool

    @property
    def ok(self) -> bool:
        return self.count > 0 and self.intact and self.valid and self.trusted and self.covers_whole_file


def verify_pdf(pdf: bytes) -> SignatureCheck:
    """Verify every embedded signature against the platform certificate; the last one must cover the whole file."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    record = ensure_platform_certificate()
    root = asn1_x509.Certificate.load(
        x509.load_pem_x509_certificate(record.certificate_pem.encode()).public_bytes(serialization.Encoding.DER)
    )
    reader = PdfFileReader(io.BytesIO(pdf))
    signatures = reader.embedded_signatures
    if not signatures:
        return SignatureCheck(0, False, False, False, "", False)
    intact = valid = trusted = True
    signer = ""
    covers = False
    for embedded in signatures:
        status = validate_pdf_signature(embedded, ValidationContext(trust_roots=[root]))
        intact &= bool(status.intact)
        valid &= bool(status.valid)
        trusted &= bool(status.trusted)
        signer = status.signing_cert.subject.human_friendly
        covers = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    return SignatureCheck(len(signatures), intact, valid, trusted, signer, covers)
