"""Endpoints the channels call (public, CSRF-exempt, authenticated by the channel's signature only).

- ``/callbacks/bank/incoming``: 到账通知 from the bank → an incoming transfer, recognised and credited once.
- ``/callbacks/<channel>/payouts``: payout-result notifications → stored once, handed to the order handler.

Each answers the channel's acknowledgement only after the change is committed; a bad signature gets HTTP 401 and
changes nothing (the channel will retry a genuine one).
"""

from __future__ import annotations

import logging

from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from payouts.channels import CHANNELS, get_adapter
from payouts.exceptions import InvalidSignature
from payouts.models import IncomingTransfer
from payouts.services import channel_notifications_receive, incoming_transfer_receive

logger = logging.getLogger(__name__)


def _headers(request) -> dict[str, str]:
    return {key: value for key, value in request.headers.items()}


@csrf_exempt
@require_POST
def bank_incoming(request):
    adapter = get_adapter("BANK")
    try:
        data = adapter.parse_incoming_notice(headers=_headers(request), body=request.body)
    except InvalidSignature as error:
        logger.warning("bank incoming notice refused: %s", error.message)
        return JsonResponse({"code": "FAIL", "message": error.message}, status=401)
    if data is not None:
        try:
            incoming_transfer_receive(data=data, source=IncomingTransfer.Source.NOTIFICATION, now=timezone.now())
        except DomainError as error:
            logger.error("bank incoming notice %s not recorded: %s", data.bank_serial, error.message)
            return JsonResponse({"code": "FAIL", "message": error.message}, status=409)
    return HttpResponse(adapter.ack.body, status=adapter.ack.status, content_type=adapter.ack.content_type)


@csrf_exempt
@require_POST
def payout_notification(request, channel: str):
    channel = channel.upper()
    if channel not in CHANNELS:
        return JsonResponse({"code": "NOT_FOUND"}, status=404)
    adapter = get_adapter(channel)
    try:
        notifications = adapter.parse_notifications(headers=_headers(request), body=request.body)
    except InvalidSignature as error:
        logger.warning("%s notification refused: %s", channel, error.message)
        return JsonResponse({"code": "FAIL", "message": error.message}, status=401)
    # A batch notice is recorded whole or not at all (the bank resends it).
    channel_notifications_receive(notifications=notifications, now=timezone.now())
    return HttpResponse(adapter.ack.body, status=adapter.ack.status, content_type=adapter.ack.content_type)
