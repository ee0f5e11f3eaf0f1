"""Linggong settings: every value comes from the environment (12-factor), in this one file.

LINGGONG_ENV selects the behaviour:
- ``development`` (default): embedded defaults. SQLite and a file-system Celery broker under ``var/``, keys generated
  once into ``var/dev-keys.json``. Nothing needs a server.
- ``test``: like development, with fixed throw-away keys, fast hashing and in-memory caches (see ``config/test_settings.py``).
- ``production``: refuses to start without DJANGO_SECRET_KEY, LINGGONG_PII_KEYS and LINGGONG_BLIND_INDEX_KEY.

DATABASE_URL (postgres://…) and REDIS_URL (redis://…) switch to PostgreSQL and Redis in any mode.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LINGGONG_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

ENV = os.environ.get("LINGGONG_ENV", "development")
if ENV not in ("development", "test", "production"):
    raise ImproperlyConfigured(f"LINGGONG_ENV must be development, test or production, not {ENV!r}")
PRODUCTION = ENV == "production"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _dev_keys() -> dict[str, str]:
    """Development keys, generated once and kept beside the data they protect (never used in production): in
    ``var/`` for the embedded SQLite database, and per database in ``~/.config/linggong/`` when DATABASE_URL points
    elsewhere, so a fresh clone working against an existing PostgreSQL database can still read it."""
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url:
        import hashlib

        config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "linggong"
        config_home.mkdir(parents=True, exist_ok=True)
        path = config_home / f"dev-keys-{hashlib.sha256(database_url.encode()).hexdigest()[:16]}.json"
    else:
        path = VAR_DIR / "dev-keys.json"
    if path.exists():
        return json.loads(path.read_text())
    keys = {
        "secret_key": secrets.token_urlsafe(50),
        "pii_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "blind_index_key": secrets.token_urlsafe(32),
    }
    path.write_text(json.dumps(keys))
    path.chmod(0o600)
    return keys


def _parse_pii_keys(text: str) -> dict[str, str]:
    """``"k2:BASE64,k1:BASE64"`` → ``{"k2": ..., "k1": ...}``; the first one is the active key unless set otherwise."""
    keys = {}
    for item in text.split(","):
        kid, sep, value = item.strip().partition(":")
        if not sep or not kid or not value:
            raise ImproperlyConfigured("LINGGONG_PII_KEYS must look like 'k1:<base64 of 32 random bytes>[,k0:<...>]'")
        keys[kid] = value
    return keys


_missing = []
if PRODUCTION:
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
    if len(SECRET_KEY) < 40 or SECRET_KEY.startswith("django-insecure"):
        _missing.append("DJANGO_SECRET_KEY (at least 40 random characters)")
    _pii_text = os.environ.get("LINGGONG_PII_KEYS", "")
    if not _pii_text:
        _missing.append("LINGGONG_PII_KEYS (e.g. k1:$(python -c 'import os,base64;print(base64.b64encode(os.urandom(32)).decode())'))")
    BLIND_INDEX_TEXT = os.environ.get("LINGGONG_BLIND_INDEX_KEY", "")
    if len(BLIND_INDEX_TEXT) < 32:
        _missing.append("LINGGONG_BLIND_INDEX_KEY (at least 32 random characters)")
    if _missing:
        raise ImproperlyConfigured(
            "Linggong refuses to start in production without real keys. Set: " + "; ".join(_missing)
        )
    PII_KEYS = _parse_pii_keys(_pii_text)
    PII_BLIND_INDEX_KEY = BLIND_INDEX_TEXT
elif ENV == "test":
    SECRET_KEY = "test-only-secret-key-not-for-any-real-use-0123456789"
    PII_KEYS = {"t1": base64.b64encode(b"t" * 32).decode(), "t0": base64.b64encode(b"0" * 32).decode()}
    PII_BLIND_INDEX_KEY = "test-only-blind-index-key-0123456789"
else:
    _keys = _dev_keys()
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", _keys["secret_key"])
    PII_KEYS = _parse_pii_keys(os.environ["LINGGONG_PII_KEYS"]) if os.environ.get("LINGGONG_PII_KEYS") else {
        "dev1": _keys["pii_key"]
    }
    PII_BLIND_INDEX_KEY = os.environ.get("LINGGONG_BLIND_INDEX_KEY", _keys["blind_index_key"])
PII_ACTIVE_KEY_ID = os.environ.get("LINGGONG_PII_ACTIVE_KEY_ID", next(iter(PII_KEYS)))

DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("LINGGONG_SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "core",
    "accounts",
    "merchants",
    "members",
    "tasks",
    "ledger",
    "payouts",
    "tax",
    "reconciliation",
    "risk",
    "archive",
    "complaints",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.platform",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("LINGGONG_SQLITE_PATH", str(VAR_DIR / "linggong.sqlite3")),
            # IMMEDIATE transactions take the write lock up front, so concurrent writers wait instead of failing.
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE",
                        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

# --- Python's cyclic garbage collector (core.apps): young-generation pass every 50,000 container allocations -------
GC_THRESHOLDS = tuple(int(n) for n in os.environ.get("LINGGONG_GC_THRESHOLDS", "50000,20,20").split(","))

# --- Redis, cache, Celery ----------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # One Redis often serves several databases (development, CI, tests): keys are kept apart per database, so
    # counters such as rate limits of one never leak into another.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": "lg:" + str(DATABASES["default"]["NAME"])}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}
    # The embedded broker: a real Celery transport on the file system (not eager mode), shared by web and worker.
    BROKER_DIR = VAR_DIR / "broker"
    for sub in ("out", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = "Asia/Shanghai"
# Named queues; a job declares its queue in its decorator. The worker started by `make run` consumes all of them.
CELERY_TASK_QUEUES_NAMES = ["default", "payouts", "channels", "tax", "reconciliation", "risk", "documents", "notify"]

# --- Auth ----------------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "/enterprise/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
OTP_TOTP_ISSUER = "灵工 Linggong"
# Rate limits: (attempts, window seconds).
LINGGONG_RATE_LIMITS = {
    "login_password": (5, 15 * 60),
    "sms_code_send_phone": (5, 60 * 60),
    "sms_code_send_ip": (20, 60 * 60),
    "sms_code_verify": (5, 10 * 60),
}
SMS_CODE_TTL_SECONDS = 5 * 60
SMS_CODE_RESEND_SECONDS = 60
SMS_ADAPTER = os.environ.get("LINGGONG_SMS_ADAPTER", "accounts.adapters.sms.SandboxSmsAdapter")

# --- Security ------------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_HSTS_SECONDS = 31536000 if PRODUCTION else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- I18N ----------------------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Files ---------------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("LINGGONG_MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage" if PRODUCTION
                    else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- REST framework ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "merchants.api_auth.MerchantSignatureAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "灵工 Linggong Partner API",
    "DESCRIPTION": "合作方接口：签名、幂等（Idempotency-Key）、金额以字符串表示的元（\"1234.56\"）。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

# --- Logging: PII is masked before any handler writes ----------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_pii": {"()": "core.pii.PIIMaskingFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["mask_pii"], "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LINGGONG_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "fontTools": {"level": "WARNING"},
                "weasyprint": {"level": "WARNING"}},
}

# --- Platform ------------------------------------------------------------------------------------------------
PLATFORM_NAME = "灵工"
PLATFORM_LEGAL_NAME = os.environ.get("LINGGONG_PLATFORM_LEGAL_NAME", "灵工共享经济服务（天津）有限公司")
PLATFORM_USCC = os.environ.get("LINGGONG_PLATFORM_USCC", "91120116MA05XXXX0J")

# --- Payout batches -----------------------------------------------------------------------------------------
# A batch of at least PAYOUTS_CHECK_PARALLEL_MIN_LINES lines is checked by this many processes (split by worker) on
# PostgreSQL; 0 = one per core, at most 4.
PAYOUTS_CHECK_PROCESSES = int(os.environ.get("LINGGONG_PAYOUTS_CHECK_PROCESSES", "0"))
PAYOUTS_CHECK_PARALLEL_MIN_LINES = int(os.environ.get("LINGGONG_PAYOUTS_CHECK_PARALLEL_MIN_LINES", "20000"))

# --- Payment channels (payouts/channels) ----------------------------------------------------------------------
# The channel sandbox runs as its own process (`manage.py channel_sandbox --port 8765`, started by `make run`);
# it calls the platform back at CHANNEL_CALLBACK_BASE_URL. Messages are signed with keys derived from the secret.
CHANNEL_SANDBOX_URL = os.environ.get("LINGGONG_CHANNEL_SANDBOX_URL", "http://127.0.0.1:8765")
CHANNEL_CALLBACK_BASE_URL = os.environ.get("LINGGONG_CHANNEL_CALLBACK_BASE_URL", SITE_URL)
CHANNEL_SANDBOX_SECRET = os.environ.get("LINGGONG_CHANNEL_SANDBOX_SECRET", "linggong-sandbox-channel-secret")
CHANNEL_TIMEOUT_SECONDS = float(os.environ.get("LINGGONG_CHANNEL_TIMEOUT_SECONDS", "5"))
# Requests a second the platform sends a channel, kept across all worker processes (payouts.channels.ratelimit).
# WeChat Pay allows 100 per merchant account (429 FREQUENCY_LIMITED above it); 90 leaves room for status queries.
CHANNEL_REQUESTS_PER_SECOND = {"WECHAT": int(os.environ.get("LINGGONG_WECHAT_REQUESTS_PER_SECOND", "90"))}
# The custody (备付金) account enterprises pay into; each enterprise gets a virtual sub-account number under it.
CUSTODY_BANK_NAME = os.environ.get("LINGGONG_CUSTODY_BANK_NAME", "招商银行天津分行营业部")
CUSTODY_ACCOUNT_PREFIX = os.environ.get("LINGGONG_CUSTODY_ACCOUNT_PREFIX", "12290866")
