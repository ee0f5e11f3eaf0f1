"""One interface for every payment channel (bank card, Alipay, WeChat).

A call to a channel follows STYLE.md: the caller has already persisted the order in an in-flight state with a
stable idempotency key (the channel's ``out_biz_no`` / ``out_bill_no`` / ``yurref``); ``submit`` is called outside
any transaction; its result is recorded in a second transaction. The adapter turns every channel's dialect into
the four outcomes below — and never turns an ambiguous answer into a failure:

- ``ACCEPTED``: the channel took the order; the result comes by notification or query.
- ``SUCCEEDED``: the channel paid synchronously (Alipay to an Alipay account).
- ``FAILED``: the channel refused the order for good (``fail_code``/``fail_message`` say why); funds may be released.
- ``UNKNOWN``: timeout, HTTP 5xx, ``SYSTEM_ERROR``: the order may or may not exist. Query it (same key) or leave it
  to reconciliation; never resubmit under a new key.
- ``REJECTED``: the request itself was refused without touching any order (the same key was used with different
  parameters, or the channel is rate-limiting): the original order, if any, is unaffected — query it.

``query`` answers ``PROCESSING``, ``SUCCEEDED``, ``FAILED``, ``RETURNED`` (退票 after success), ``NOT_FOUND`` (not a
failure: the order may still arrive, channels.md §0.3) or ``UNKNOWN``.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings

from payouts.channels.http import POOL

logger = logging.getLogger(__name__)


class Outcome:
    ACCEPTED = "ACCEPTED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"
    REJECTED = "REJECTED"


class QueryStatus:
    PROCESSING = "PROCESSING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    RETURNED = "RETURNED"
    NOT_FOUND = "NOT_FOUND"
    UNKNOWN = "UNKNOWN"


# How final a notification/query status is: a notification with a lower rank than the order's current state is
# stale (arrived out of order) and must be ignored.
STATUS_RANK = {QueryStatus.PROCESSING: 1, QueryStatus.SUCCEEDED: 2, QueryStatus.FAILED: 2, QueryStatus.RETURNED: 3}


@dataclass(frozen=True)
class PayoutRequest:
    """What a channel needs to pay one worker. Amount in fen; personal data travels only to the channel."""

    amount_fen: int
    payee_name: str
    payee_account: str  # bank card number, Alipay logon id / user id, or WeChat openid
    remark: str = ""
    payee_bank: str = ""
    payee_id_number: str = ""


@dataclass(frozen=True)
class SubmitResult:
    outcome: str
    channel_order_id: str = ""
    fail_code: str = ""
    fail_message: str = ""
    raw_status: str = ""


@dataclass(frozen=True)
class QueryResult:
    status: str
    channel_order_id: str = ""
    amount_fen: int | None = None
    fail_code: str = ""
    fail_message: str = ""
    finished_at: dt.datetime | None = None


@dataclass(frozen=True)
class Notification:
    """A verified payout-result notification, normalised. ``notify_id`` is stable across redeliveries."""

    channel: str
    notify_id: str
    idempotency_key: str
    status: str  # a QueryStatus
    amount_fen: int
    channel_order_id: str = ""
    fail_code: str = ""
    fail_message: str = ""
    occurred_at: dt.datetime | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Ack:
    """What to answer the channel once the notification is durably stored."""

    status: int
    body: bytes
    content_type: str = "text/plain"


class ChannelTimeout(Exception):
    """The channel did not answer in time; the outcome is unknown."""


class ChannelAdapter(ABC):
    channel: str = ""
    #: Answer after a notification is stored (Alipay wants the bare word ``success``).
    ack = Ack(200, b"success")
    #: The channel takes many payouts in one request (``submit_batch``); dispatch then sends them that way.
    batch_api = False
    #: Codes of a REJECTED answer that only say "too many requests now": nothing was created, so the same request
    #: (same key) is sent again after a pause (``payouts.services.dispatch``).
    rate_limited_codes: frozenset[str] = frozenset()

    def __init__(self, *, base_url: str | None = None, timeout: float | None = None, secret: str | None = None):
        self.base_url = (base_url or settings.CHANNEL_SANDBOX_URL).rstrip("/")
        self.timeout = settings.CHANNEL_TIMEOUT_SECONDS if timeout is None else timeout
        self.secret = secret

    @property
    def notify_url(self) -> str:
        return f"{settings.CHANNEL_CALLBACK_BASE_URL.rstrip('/')}/callbacks/{self.channel.lower()}/payouts"

    @abstractmethod
    def submit(self, order: PayoutRequest, idempotency_key: str) -> SubmitResult:
        """Send one payout; never raises for a channel-side problem (returns UNKNOWN/FAILED/REJECTED)."""

    @abstractmethod
    def query(self, idempotency_key: str) -> QueryResult:
        """The channel's view of the order with this key."""

    @abstractmethod
    def parse_notification(self, *, headers: dict[str, str], body: bytes) -> Notification:
        """Verify and normalise a payout-result notification. Raises InvalidSignature (payouts.exceptions)."""

    def submit_batch(self, orders: Sequence[tuple[PayoutRequest, str]]) -> list[SubmitResult]:
        """Send many payouts (``(order, idempotency_key)`` pairs); one result per order, in order.

        The default sends them one by one; channels with a batch API (the bank's 批量代发) override it.
        """
        return [self.submit(order, key) for order, key in orders]

    def parse_notifications(self, *, headers: dict[str, str], body: bytes) -> list[Notification]:
        """Verify a notification that may carry several results (a bank batch notice); one Notification each."""
        return [self.parse_notification(headers=headers, body=body)]

    @abstractmethod
    def fetch_statement(self, *, date: dt.date, kind: str = "payouts") -> bytes:
        """The channel's daily statement file (对账单) of ``date`` as bytes. Raises ChannelTimeout / OSError."""

    # --- HTTP plumbing shared by the adapters ---------------------------------------------------------------
    def _http(self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None
              ) -> tuple[int, dict, bytes]:
        """(status, headers, body) over a kept-alive connection (``payouts.channels.http``: directly, never through
        a proxy). Raises ChannelTimeout on a timeout, a refused or broken connection."""
        try:
            return POOL.request(method, f"{self.base_url}{path}", body=body, headers=headers, timeout=self.timeout)
        except (OSError, http.client.HTTPException) as error:
            logger.warning("channel %s %s %s: %s", self.channel, method, path, error)
            raise ChannelTimeout(str(error) or type(error).__name__) from error

    @staticmethod
    def _json(body: bytes) -> dict:
        try:
            value = json.loads(body.decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}
