"""Distances on the earth's surface, and the typed-city fallback when the phone does not share its location.

Coordinates are Decimal degrees (WGS-84 as the browser reports them). Distances are whole metres. The haversine
formula is accurate to well under 0.5 % at city scale, which is all "near me" and a check-in radius need.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

EARTH_RADIUS_M = 6_371_008.8

# City centres (approximate, for ordering by distance when the worker types a city instead of sharing a location).
CITY_CENTRES: dict[str, tuple[Decimal, Decimal]] = {
    "北京": (Decimal("39.904200"), Decimal("116.407400")),
    "上海": (Decimal("31.230400"), Decimal("121.473700")),
    "天津": (Decimal("39.084200"), Decimal("117.200900")),
    "重庆": (Decimal("29.563000"), Decimal("106.551600")),
    "广州": (Decimal("23.129100"), Decimal("113.264400")),
    "深圳": (Decimal("22.543100"), Decimal("114.057900")),
    "杭州": (Decimal("30.274100"), Decimal("120.155100")),
    "南京": (Decimal("32.060300"), Decimal("118.796900")),
    "苏州": (Decimal("31.298900"), Decimal("120.585300")),
    "成都": (Decimal("30.572800"), Decimal("104.066800")),
    "武汉": (Decimal("30.592800"), Decimal("114.305500")),
    "西安": (Decimal("34.341600"), Decimal("108.939800")),
    "郑州": (Decimal("34.746600"), Decimal("113.625300")),
    "长沙": (Decimal("28.228200"), Decimal("112.938800")),
    "济南": (Decimal("36.651200"), Decimal("117.120100")),
    "青岛": (Decimal("36.067100"), Decimal("120.382600")),
    "沈阳": (Decimal("41.805700"), Decimal("123.431500")),
    "大连": (Decimal("38.914000"), Decimal("121.614700")),
    "石家庄": (Decimal("38.042800"), Decimal("114.514300")),
    "合肥": (Decimal("31.820600"), Decimal("117.227200")),
    "福州": (Decimal("26.074500"), Decimal("119.296500")),
    "厦门": (Decimal("24.479800"), Decimal("118.089400")),
    "昆明": (Decimal("25.038900"), Decimal("102.718300")),
    "哈尔滨": (Decimal("45.803800"), Decimal("126.534900")),
    "廊坊": (Decimal("39.538000"), Decimal("116.683800")),
}


def normalise_city(text: str) -> str:
    """"天津市" → "天津"; white space removed."""
    city = (text or "").strip().replace(" ", "")
    for suffix in ("市", "地区"):
        if city.endswith(suffix) and len(city) > len(suffix) + 1:
            city = city[: -len(suffix)]
    return city


def city_centre(text: str) -> tuple[Decimal, Decimal] | None:
    return CITY_CENTRES.get(normalise_city(text))


def parse_coordinate(value, *, kind: str) -> Decimal:
    """A latitude (-90..90) or longitude (-180..180) as a Decimal with 6 places; ValueError with a Chinese reason."""
    label = "纬度" if kind == "lat" else "经度"
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        raise ValueError(_("{label}“{value}”不是数字").format(label=label, value=value)) from None
    if not number.is_finite():
        raise ValueError(_("{label}“{value}”不是数字").format(label=label, value=value))
    limit = 90 if kind == "lat" else 180
    if not -limit <= number <= limit:
        raise ValueError(_("{label}必须在 -{limit} 到 {limit} 之间，收到 {value}").format(label=label, limit=limit, value=value))
    return number.quantize(Decimal("0.000001"))


def distance_m(lat1, lng1, lat2, lng2) -> int:
    """Great-circle distance in whole metres (haversine). Decimal or int degrees in; the maths is in float on purpose:
    distances are not money, and the result is rounded to the metre."""
    phi1, phi2 = math.radians(float(lat1)), math.radians(float(lat2))
    d_phi = phi2 - phi1
    d_lambda = math.radians(float(lng2) - float(lng1))
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return round(2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a))))


def bounding_box(lat, lng, *, radius_m: int) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(south, west, north, east) in Decimal degrees enclosing a circle of ``radius_m`` around the point."""
    d_lat = radius_m / 111_320
    d_lng = radius_m / (111_320 * max(0.01, math.cos(math.radians(float(lat)))))
    q = Decimal("0.000001")
    return (Decimal(str(float(lat) - d_lat)).quantize(q), Decimal(str(float(lng) - d_lng)).quantize(q),
            Decimal(str(float(lat) + d_lat)).quantize(q), Decimal(str(float(lng) + d_lng)).quantize(q))


def format_distance(metres: int | None) -> str:
    if metres is None:
        return ""
    if metres < 1000:
        return _("{metres} 米").format(metres=metres)
    return _("{km:.1f} 公里").format(km=metres / 1000)
