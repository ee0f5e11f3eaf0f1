"""OpenAPI (drf-spectacular) extensions for the kernel's API fields."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension


class YuanAmountFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "core.api.YuanAmountField"

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "pattern": r"^-?\d{1,15}(\.\d{1,2})?$", "example": "1234.56",
                "description": "金额（元），十进制字符串，最多两位小数；不接受数字（浮点）"}
