"""The worker's matching profile: skills, home city, location (all optional; better matches when given)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext

from core import audit
from members.models import Member
from tasks import geo
from tasks.exceptions import TaskInvalid, WorkerNotEligible
from tasks.models import WorkerProfile


@transaction.atomic
def worker_profile_update(*, member: Member | None, skills: list[str], city: str = "", latitude=None,
                          longitude=None, now) -> WorkerProfile:
    """Raises WorkerNotEligible (no member record yet), TaskInvalid (too many skills, bad coordinates)."""
    if member is None:
        raise WorkerNotEligible(gettext("请先完成注册和实名认证"), extra={"missing": [{"code": "not_verified",
                                                                       "message": gettext("请先完成实名认证"),
                                                                       "url": "/m/verify/"}]})
    cleaned = list(dict.fromkeys(s.strip() for s in skills if s and s.strip()))
    if len(cleaned) > 10 or any(len(s) > 20 for s in cleaned):
        raise TaskInvalid(gettext("最多 10 项技能，每项不超过 20 个字"), extra={"field": "skills"})
    lat = lng = None
    if latitude not in (None, "") or longitude not in (None, ""):
        try:
            lat, lng = geo.parse_coordinate(latitude, kind="lat"), geo.parse_coordinate(longitude, kind="lng")
        except ValueError as error:
            raise TaskInvalid(str(error), extra={"field": "latitude"}) from None
    profile, _ = WorkerProfile.objects.select_for_update().get_or_create(member=member)
    profile.skills, profile.city = cleaned, geo.normalise_city(city)[:40]
    if lat is not None:
        profile.latitude, profile.longitude = lat, lng
    profile.save()
    audit.record(event="tasks.worker_profile.updated", now=now, actor=member.user, subject=profile,
                 after={"skills": cleaned, "city": profile.city})
    return profile
