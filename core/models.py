"""Kernel models: the tenant-owned base, the audit log and idempotency records."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """``created_at``/``updated_at`` are bookkeeping only, never business dates."""

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, merchant) -> TenantQuerySet:
        """Rows of one tenant (the merchant). ``merchant`` may be a Merchant or its pk; ``None`` is refused."""
        if merchant is None:
            raise ValueError("a tenant is required")
        merchant_id = getattr(merchant, "pk", merchant)
        return self.filter(merchant_id=merchant_id)


TenantManager = models.Manager.from_queryset(TenantQuerySet)


class TenantOwnedModel(TimeStampedModel):
    """A row that belongs to exactly one merchant (the tenant). Every selector filters by it."""

    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, related_name="+", verbose_name=_("企业")
    )

    objects = TenantManager()

    class Meta:
        abstract = True


class AuditRecord(models.Model):
    """Append-only, hash-chained audit log. ``hash = sha256(prev_hash ‖ canonical JSON of this record)``.

    Rows are never updated or deleted (the admin is read-only; on PostgreSQL a trigger refuses UPDATE and DELETE).
    ``manage.py audit_verify`` recomputes the chain.
    """

    seq = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(_("时间"), db_index=True)
    actor_id = models.BigIntegerField(_("操作人ID"), null=True, blank=True)
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    merchant_id = models.BigIntegerField(_("企业ID"), null=True, blank=True, db_index=True)
    event = models.CharField(_("事件"), max_length=100, db_index=True)
    subject_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    subject_id = models.CharField(_("对象ID"), max_length=64, blank=True)
    before = models.JSONField(_("变更前"), null=True, blank=True)
    after = models.JSONField(_("变更后"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="audit_subject_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event} {self.subject_type}:{self.subject_id}"


class IdempotencyRecord(models.Model):
    """One partner request by Idempotency-Key, per tenant: its fingerprint and, once done, its response."""

    class Status(models.TextChoices):
        IN_PROGRESS = "IN_PROGRESS", _("处理中")
        COMPLETED = "COMPLETED", _("已完成")

    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    scope = models.CharField(max_length=100, help_text="the operation, e.g. payouts.order.create")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("幂等记录")
        verbose_name_plural = _("幂等记录")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "scope", "key"], name="idempotency_unique_per_tenant"),
            models.UniqueConstraint(
                fields=["scope", "key"], condition=models.Q(merchant__isnull=True), name="idempotency_unique_untenanted"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key} ({self.status})"


class SigningCertificate(models.Model):
    """The platform's document-signing certificate (created at set-up; see ``core.signing``)."""

    name = models.CharField(max_length=100, unique=True)
    subject = models.CharField(max_length=255)
    certificate_pem = models.TextField()
    key_pem_encrypted = models.TextField(help_text="PEM private key, encrypted with the PII key")
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("平台签章证书")
        verbose_name_plural = _("平台签章证书")

    def __str__(self) -> str:
        return self.subject

