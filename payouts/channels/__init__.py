"""Payment channel adapters behind one interface (``base.ChannelAdapter``) and the sandbox that plays the channels.

``get_adapter("BANK" | "ALIPAY" | "WECHAT")`` returns the adapter configured for the channel; tests pass
``base_url=`` to point it at a sandbox they started themselves.
"""

from __future__ import annotations

from payouts.channels.base import (  # noqa: F401
    STATUS_RANK,
    ChannelAdapter,
    Notification,
    Outcome,
    PayoutRequest,
    QueryResult,
    QueryStatus,
    SubmitResult,
)

CHANNELS = ("BANK", "ALIPAY", "WECHAT")


def get_adapter(channel: str, **kwargs) -> ChannelAdapter:
    channel = channel.upper()
    if channel == "BANK":
        from payouts.channels.bank import BankAdapter

        return BankAdapter(**kwargs)
    if channel == "ALIPAY":
        from payouts.channels.alipay import AlipayAdapter

        return AlipayAdapter(**kwargs)
    if channel == "WECHAT":
        from payouts.channels.wechat import WechatAdapter

        return WechatAdapter(**kwargs)
    raise ValueError(f"unknown channel {channel!r}")


def is_stale(current_status: str, new_status: str) -> bool:
    """True when a notification/query result is older than what is already known (it arrived out of order)."""
    return STATUS_RANK.get(new_status, 0) < STATUS_RANK.get(current_status, 0)
