"""Settings of the members app, each overridable in Django settings (defaults here, so the app works without them).

- ``MEMBERS_MIN_AGE`` (18): the youngest age that may verify and sign (tax-rules-cn.md §6.5: platform practice 18+).
- ``MEMBERS_MAX_AGE`` (None): a fixed upper age; ``None`` means "until the statutory retirement age", computed from
  the birth date and sex in the ID number under the NPC decision of 2024-09-13 (gradual rise from 2025-01-01).
- ``MEMBERS_FEMALE_RETIREMENT_BASE`` (55): women's original retirement age used for that rule (55 → 58, or 50 → 55).
- ``MEMBERS_VERIFICATION_FACTORS`` (4): 3 = name + ID number + bank card; 4 adds the phone number.
- ``MEMBERS_VERIFY_ATTEMPTS_PER_DAY`` (5): provider checks per worker per calendar day (timeouts are not counted).
- ``MEMBERS_VERIFICATION_ADAPTER``: dotted path of the provider adapter (the sandbox by default).
- ``MEMBERS_SANDBOX_TIMEOUT_RATE`` (0.0): share of sandbox calls that time out at random, to rehearse retries.
- ``MEMBERS_UPLOAD_MAX_BYTES`` (2 MiB) and ``MEMBERS_UPLOAD_MAX_ROWS`` (2000): limits of a worker-list upload.
- ``MEMBERS_CONTRACT_MAX_BYTES`` (10 MiB): limit of an uploaded paper contract.
- ``MEMBERS_REMIND_INTERVAL_HOURS`` (24): an enterprise may remind one worker once per interval.
"""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    "MEMBERS_MIN_AGE": 18,
    "MEMBERS_MAX_AGE": None,
    "MEMBERS_FEMALE_RETIREMENT_BASE": 55,
    "MEMBERS_VERIFICATION_FACTORS": 4,
    "MEMBERS_VERIFY_ATTEMPTS_PER_DAY": 5,
    "MEMBERS_VERIFICATION_ADAPTER": "members.adapters.verification.SandboxVerificationAdapter",
    "MEMBERS_SANDBOX_TIMEOUT_RATE": 0.0,
    "MEMBERS_UPLOAD_MAX_BYTES": 2 * 1024 * 1024,
    "MEMBERS_UPLOAD_MAX_ROWS": 2000,
    "MEMBERS_CONTRACT_MAX_BYTES": 10 * 1024 * 1024,
    "MEMBERS_REMIND_INTERVAL_HOURS": 24,
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])
