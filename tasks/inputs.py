"""Parsed inputs of the tasks services (portal forms and API serializers build these; services validate the rules)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class TaskData:
    """A task as the enterprise describes it. Amounts in fen, coordinates in Decimal degrees, aware datetimes."""

    title: str
    description: str
    category_code: str
    pricing_mode: str
    unit_price_fen: int
    budget_fen: int
    headcount: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    deadline_at: dt.datetime
    quantity_per_worker: Decimal = Decimal("1")
    take_mode: str = "APPLY"
    skills: list[str] = field(default_factory=list)
    is_remote: bool = False
    address: str = ""
    city: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    radius_m: int = 500
    proof_kinds: list[str] = field(default_factory=list)


@dataclass
class PartData:
    """One sub-task (分包) of a split task: who does it, what, and how much."""

    member_id: int
    title: str
    quantity: Decimal
