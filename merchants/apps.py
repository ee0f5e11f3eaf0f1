from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    name = "merchants"
    verbose_name = "商户入驻"

    def ready(self) -> None:
        from merchants import schema  # noqa: F401  (registers the OpenAPI description of the request signature)
