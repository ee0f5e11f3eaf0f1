"""Test settings: the real settings with LINGGONG_ENV=test, plus what makes tests fast and isolated."""

import os

os.environ["LINGGONG_ENV"] = "test"

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Jobs enqueued on commit run in-process in tests, so a flow can be followed end to end.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405
LANGUAGE_CODE = "zh-hans"
