"""A channel's published request rate, kept by every dispatch process together.

WeChat Pay's 商家转账 takes at most 100 requests a second per merchant account and answers the rest 429
``FREQUENCY_LIMITED`` (channels.md §2, [W1]). Dispatch sends one WeChat transfer a request, 32 in flight per worker
process, so without a limit most of a large batch would be refused. ``throttle`` makes a caller wait for a slot:
slots are counted per 100 ms window in the cache (Redis in production, so every worker process shares the count;
``incr`` is atomic there), a tenth of the rate per window, so the requests are spread over the second rather than
sent in a burst at its start. (The embedded run's file cache counts per process only; a request refused all the same
is sent again by dispatch.)
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

WINDOW_S = 0.1


def requests_per_second(channel: str) -> int | None:
    """The rate the platform keeps to for ``channel`` (settings ``CHANNEL_REQUESTS_PER_SECOND``), None: no limit."""
    value = settings.CHANNEL_REQUESTS_PER_SECOND.get(channel)
    return int(value) if value else None


def throttle(channel: str, per_second: int, *, clock=time.time, sleep=time.sleep) -> float:
    """Wait until one more request to ``channel`` fits in ``per_second``. Returns the seconds waited.

    Windows of 100 ms take a tenth of the rate each (rounded down); below 10 a second, a window is as long as one
    request's share of the second and takes one."""
    window_s = max(WINDOW_S, 1.0 / per_second)
    per_window = max(1, int(per_second * window_s + 1e-9))
    waited = 0.0
    while True:
        now = clock()
        window = int(now / window_s)
        key = f"payouts:rate:{channel}:{window_s}:{window}"
        cache.add(key, 0, timeout=5)
        try:
            count = cache.incr(key)
        except ValueError:  # the window's key expired between add and incr: count again
            continue
        if count <= per_window:
            return waited
        pause = (window + 1) * window_s - now + 0.001
        sleep(pause)
        waited += pause
