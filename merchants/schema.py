"""OpenAPI description of the partner request signature (imported by MerchantsConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class MerchantSignatureScheme(OpenApiAuthenticationExtension):
    target_class = "merchants.api_auth.MerchantSignatureAuthentication"
    name = "LG1-HMAC-SHA256"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": ("`Authorization: LG1-HMAC-SHA256 KeyId=<Key ID>, Signature=<hex>` with `X-LG-Timestamp` "
                            "(Unix seconds, ±300 s) and `X-LG-Nonce` (16–64 chars, once per key). Signature = "
                            "HMAC-SHA256(key = hex SHA-256 of the secret, message = \"LG1-HMAC-SHA256\\nMETHOD\\n"
                            "path?query\\ntimestamp\\nnonce\\nhex SHA-256 of the body\"). See docs/api.md."),
        }
