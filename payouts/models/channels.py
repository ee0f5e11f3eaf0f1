"""Channel notifications (通道异步通知): every verified payout-result notification, stored once.

Channels deliver at least once, sometimes twice, sometimes out of order. A notification is stored with a unique
``(channel, notify_id)``, so a redelivery is recognised and answered ``success`` without being processed again.
Payout orders are settled from it by the handler registered with ``payouts.channels.notifications``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelNotification(models.Model):
    channel = models.CharField(_("通道"), max_length=16)
    notify_id = models.CharField(_("通知ID"), max_length=64)
    idempotency_key = models.CharField(_("商户订单号（幂等键）"), max_length=64, db_index=True)
    channel_order_id = models.CharField(_("通道订单号"), max_length=64, blank=True)
    status = models.CharField(_("结果"), max_length=16)
    amount_fen = models.BigIntegerField(_("金额（分）"))
    fail_code = models.CharField(_("失败码"), max_length=64, blank=True)
    fail_message = models.CharField(_("失败原因"), max_length=200, blank=True)
    occurred_at = models.DateTimeField(_("通道处理时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("接收时间"))
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    deliveries = models.PositiveIntegerField(_("收到次数"), default=1)

    class Meta:
        verbose_name = _("通道通知")
        verbose_name_plural = _("通道通知")
        constraints = [
            models.UniqueConstraint(fields=["channel", "notify_id"], name="channel_notification_unique"),
        ]
        # final results stored but not yet applied to their order (the settlement job applies them): a small
        # index over the pending ones only
        indexes = [models.Index(fields=["id"], condition=models.Q(processed_at__isnull=True),
                                name="channel_notification_pending")]

    def __str__(self) -> str:
        return f"{self.channel}:{self.notify_id} {self.status}"
