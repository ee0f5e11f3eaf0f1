"""A dispatch worker run as its own process by the crash test: it sends every confirmed order of a batch to a
scripted channel, chunk after chunk, like the Celery worker does; the test SIGKILLs it half-way and starts it again.

The scripted channel answers the same result for the same key every time (as a real channel does), records every
submission in ``SUBMIT_LOG`` (one key per line, flushed) and takes a few milliseconds per call.

    python tests/payouts/orders/dispatch_worker.py <batch_id> <submit_log>
"""

import os
import sys
import time
import zlib

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from payouts.channels import Outcome, SubmitResult  # noqa: E402
from payouts.models import PayoutOrder  # noqa: E402
from payouts.services import dispatch  # noqa: E402


class LoggingChannel:
    def __init__(self, path):
        self.log = open(path, "a", buffering=1)  # noqa: SIM115 - kept open for the life of the process

    def submit(self, request, key):
        time.sleep(0.01)
        self.log.write(f"{key}\n")
        self.log.flush()
        os.fsync(self.log.fileno())
        failed = zlib.crc32(key.encode()) % 10 == 0  # one in ten fails, always the same ones
        if failed:
            return SubmitResult(Outcome.FAILED, fail_code="NAME_MISMATCH", fail_message="户名与账号不符")
        return SubmitResult(Outcome.SUCCEEDED, channel_order_id=f"CH{key[:10]}")


def main(batch_id: int, log_path: str) -> None:
    channel = LoggingChannel(log_path)
    dispatch.adapter_for = lambda name: channel  # noqa: E731 - the worker plays the channel itself
    ids = list(PayoutOrder.objects.filter(batch_id=batch_id).order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), 40):
        dispatch.payout_orders_dispatch(order_ids=ids[start:start + 40], workers=4)
    sys.stdout.write("done\n")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
