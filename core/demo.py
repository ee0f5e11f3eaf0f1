"""Kernel set-up run by `make run` before the demo data: the platform's document-signing certificate."""


def startup() -> None:
    from core.signing import ensure_platform_certificate

    ensure_platform_certificate()
