import pytest

from accounts.models import SmsCode, SmsOutbox
from core.testing.factories import make_resident_id


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def worker_phone(worker_user):
    return worker_user.phone


def good_id(n: int, birth: str = "19900101") -> str:
    """A valid ID number the sandbox accepts (its 顺序码 avoids 444/555/666)."""
    number = make_resident_id(n, birth=birth)
    assert number[14:17] not in ("444", "555", "666")
    return number


def sandbox_id(sequence: str, birth: str = "19900101") -> str:
    """A valid ID number with the given 顺序码, to trigger a sandbox outcome."""
    return make_resident_id(int(sequence), birth=birth)


GOOD_CARD = "6222020200112233445"


def last_sms(template: str | None = None) -> SmsOutbox:
    rows = SmsOutbox.objects.order_by("-id")
    if template:
        rows = rows.filter(template=template)
    return rows.first()


def sign_code(*, user, now):
    from accounts.services import sms_code_send

    return sms_code_send(phone=user.phone, purpose=SmsCode.Purpose.SIGN, now=now).plain_code
