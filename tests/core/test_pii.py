import logging

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from accounts.models import User
from core import pii
from core.testing.factories import WorkerUserFactory


class TestEncryption:
    def test_round_trip_and_random_nonce(self):
        first, second = pii.encrypt("11010519491231002X"), pii.encrypt("11010519491231002X")
        assert first != second
        assert pii.decrypt(first) == pii.decrypt(second) == "11010519491231002X"

    def test_token_names_its_key(self, settings):
        assert pii.key_id_of(pii.encrypt("x")) == settings.PII_ACTIVE_KEY_ID

    def test_tampered_token_is_refused(self):
        token = pii.encrypt("13812345678")
        prefix, kid, payload = token.split(":", 2)
        flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
        with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag or a decoding error
            pii.decrypt(f"{prefix}:{kid}:{flipped}")

    def test_unknown_key_id_says_which(self):
        token = pii.encrypt("x").replace(":t1:", ":zz:")
        with pytest.raises(pii.PIIKeyError, match="zz"):
            pii.decrypt(token)


@pytest.mark.django_db
class TestEncryptedField:
    def test_raw_database_row_holds_no_plaintext(self):
        user = WorkerUserFactory(phone="13812345678", full_name="张三丰")
        with connection.cursor() as cursor:
            cursor.execute("SELECT phone, full_name, phone_index FROM accounts_user WHERE id = %s", [user.pk])
            phone_raw, name_raw, index_raw = cursor.fetchone()
        assert "13812345678" not in phone_raw and "张三丰" not in name_raw
        assert phone_raw.startswith("v1:") and name_raw.startswith("v1:")
        assert "13812345678" not in index_raw
        reloaded = User.objects.get(pk=user.pk)
        assert reloaded.phone == "13812345678" and reloaded.full_name == "张三丰"

    def test_blind_index_finds_the_row_without_decrypting(self):
        user = WorkerUserFactory(phone="13812345678")
        found = User.objects.get(phone_index=pii.blind_index("138 1234 5678", purpose="phone"))
        assert found.pk == user.pk

    def test_blind_index_depends_on_purpose(self):
        assert pii.blind_index("123", purpose="phone") != pii.blind_index("123", purpose="id_number")

    def test_rotation_re_encrypts_old_rows_with_the_active_key(self, settings):
        user = WorkerUserFactory(phone="13812345678")
        with override_settings(PII_ACTIVE_KEY_ID="t0"):
            call_command("pii_rotate", stdout=open("/dev/null", "w"))
            with connection.cursor() as cursor:
                cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [user.pk])
                assert pii.key_id_of(cursor.fetchone()[0]) == "t0"
            assert User.objects.get(pk=user.pk).phone == "13812345678"


class TestMasking:
    @pytest.mark.parametrize(("fn", "value", "masked"), [
        (pii.mask_id_number, "11010519491231002X", "1101**********002X"),
        (pii.mask_bank_card, "6228480402564890018", "6228 **** **** 0018"),
        (pii.mask_phone, "13812345678", "138****5678"),
        (pii.mask_name, "张三", "张*"),
        (pii.mask_name, "欧阳娜娜", "欧***"),
        (pii.mask_name, "", ""),
        (pii.mask_account, "zhang@example.com", "z***@example.com"),
        (pii.mask_account, "13812345678", "138****5678"),
    ])
    def test_masks(self, fn, value, masked):
        assert fn(value) == masked

    def test_log_filter_masks_identifiers_in_messages(self, caplog):
        logger = logging.getLogger("linggong.test")
        logger.addFilter(pii.PIIMaskingFilter())
        with caplog.at_level(logging.INFO, logger="linggong.test"):
            logger.info("worker %s card %s phone %s", "11010519491231002X", "6228480402564890018", "13812345678")
        text = caplog.records[0].getMessage()
        assert "11010519491231002X" not in text and "1101**********002X" in text
        assert "6228480402564890018" not in text and "6228 **** **** 0018" in text
        assert "13812345678" not in text and "138****5678" in text
