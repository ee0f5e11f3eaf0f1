"""Reads of the merchants app."""

from __future__ import annotations

from merchants.models import Merchant, MerchantConfiguration


def merchant_configuration(*, merchant: Merchant) -> MerchantConfiguration:
    """The enterprise's configuration items; an unsaved row with the defaults when operations have not set any."""
    config = MerchantConfiguration.objects.filter(merchant=merchant).first()
    return config or MerchantConfiguration(merchant=merchant)
