"""Enterprises invite workers (one by one, by a list, or by API); workers accept after signing in; reminders."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.services import sms_send
from core import audit
from core.exceptions import DomainError, ValidationFailed
from core.pii import blind_index, mask_id_number, mask_phone
from core.tenancy import get_for_tenant
from core.validators import validate_mobile, validate_resident_id
from members import conf
from members.exceptions import (
    AlreadyInvited,
    InvitationInvalid,
    NotSignable,
    RelationshipTerminated,
    ReminderTooSoon,
    UploadRejected,
)
from members.models import MemberMerchant
from members.rules import check_age
from members.services._common import clean_name, local_date, member_ensure
from members.uploads import read_worker_list


def invite_link(relationship: MemberMerchant) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/m/invite/{relationship.invite_token}/"


def _validated(*, name: str, id_number: str, phone: str, today: dt.date) -> tuple[str, str, str]:
    """Clean one invitee. Raises ValidationFailed with ``extra.column`` naming the column at fault."""
    try:
        name = clean_name(name)
    except ValidationFailed as error:
        raise ValidationFailed(error.message, extra={"column": "姓名", "form_field": "name"}) from None
    try:
        resident = validate_resident_id(id_number or "", today=today)
        check_age(resident, today=today)
    except ValidationFailed as error:
        raise ValidationFailed(error.message, extra={"column": "身份证号", "form_field": "id_number"}) from None
    try:
        phone = validate_mobile(phone or "")
    except ValidationFailed as error:
        raise ValidationFailed(error.message, extra={"column": "手机号", "form_field": "phone"}) from None
    return name, resident.number, phone


def _existing(merchant, *, id_index: str, phone_index: str) -> tuple[str, MemberMerchant] | None:
    """A relationship of this enterprise with the same person (by the invited ID/phone or the linked member), open or
    terminated: there is one row per worker and enterprise, so a terminated one is not invited again (see
    ``_already_invited``)."""
    rows = MemberMerchant.objects.for_tenant(merchant)
    by_id = rows.filter(invite_id_number_index=id_index).first() or rows.filter(
        member__id_number_index=id_index).first()
    if by_id:
        return "身份证号", by_id
    by_phone = rows.filter(invite_phone_index=phone_index).first() or rows.filter(
        member__user__phone_index=phone_index).first()
    if by_phone:
        return "手机号", by_phone
    return None


TERMINATED_MESSAGE = gettext_lazy("该人员已与本企业解约；如需重新合作，请联系平台运营")


def _already_invited(column: str, relationship: MemberMerchant, value_masked: str) -> DomainError:
    if relationship.status == MemberMerchant.Status.TERMINATED:
        return RelationshipTerminated(str(TERMINATED_MESSAGE), extra={
            "column": column, "relationship_id": relationship.pk,
            "form_field": "id_number" if column == "身份证号" else "phone"})
    return AlreadyInvited(
        _("{column} {value_masked} 的人员已在本企业名单中（状态：{status}），无需重复邀请；如需再次通知，请在人员列表中点“提醒”").format(column=column, value_masked=value_masked, status=relationship.get_status_display()),
        extra={"column": column, "relationship_id": relationship.pk, "form_field": "id_number" if column == "身份证号" else "phone"},
    )


def _create_invitation(*, merchant, name, id_number, phone, actor, now, source) -> MemberMerchant:
    relationship = MemberMerchant.objects.create(
        merchant=merchant, source=source, invite_name=name, invite_id_number=id_number,
        invite_id_number_index=blind_index(id_number, purpose="id_number"), invite_phone=phone,
        invite_phone_index=blind_index(phone, purpose="phone"), invite_token=secrets.token_urlsafe(24),
        invited_by=actor if isinstance(actor, User) else None, invited_at=now,  # an API key is audited, not stored
    )
    audit.record(event="members.worker.invited", now=now, actor=actor, subject=relationship, merchant=merchant,
                 after={"id_number": mask_id_number(id_number), "phone": mask_phone(phone), "source": source})
    sms_send(phone=phone, template="invitation", params={"merchant": merchant.name, "link": invite_link(relationship)},
             now=now)
    return relationship


@transaction.atomic
def worker_invite(*, merchant, name: str, id_number: str, phone: str, actor, now: dt.datetime,
                  source: str = MemberMerchant.Source.PORTAL) -> MemberMerchant:
    """Invite one worker: the relationship is INVITED and an SMS with the invitation link is sent after commit.

    Raises ValidationFailed (``extra.column``), AgeNotAllowed, AlreadyInvited, RelationshipTerminated (the person was
    with this enterprise and the relationship was terminated: re-opening it is for operations).
    """
    name, id_number, phone = _validated(name=name, id_number=id_number, phone=phone, today=local_date(now))
    clash = _existing(merchant, id_index=blind_index(id_number, purpose="id_number"),
                      phone_index=blind_index(phone, purpose="phone"))
    if clash:
        column, relationship = clash
        raise _already_invited(column, relationship, mask_id_number(id_number) if column == "身份证号" else mask_phone(phone))
    try:
        with transaction.atomic():
            return _create_invitation(merchant=merchant, name=name, id_number=id_number, phone=phone, actor=actor,
                                      now=now, source=source)
    except IntegrityError:  # invited concurrently
        raise AlreadyInvited(_("该人员刚刚已被邀请，请刷新人员列表查看")) from None


@transaction.atomic
def worker_invite_upload(*, merchant, filename: str, content: bytes, actor, now: dt.datetime) -> list[MemberMerchant]:
    """Invite everyone in an uploaded list (CSV/XLSX). All or nothing: any bad line rejects the whole file.

    Raises UploadRejected with ``extra.errors = [{line, column, message}, ...]`` (every bad line, not just the first).
    """
    rows = read_worker_list(filename=filename, content=content)
    today = local_date(now)
    errors: list[dict] = []
    seen_ids: dict[str, int] = {}
    seen_phones: dict[str, int] = {}
    clean = []
    for row in rows:
        if row.problem:
            errors.append({"line": row.line, "column": row.problem[0], "message": row.problem[1]})
            continue
        try:
            name, id_number, phone = _validated(name=row.name, id_number=row.id_number, phone=row.phone, today=today)
        except DomainError as error:
            errors.append({"line": row.line, "column": error.extra.get("column", ""), "message": error.message})
            continue
        id_index, phone_index = blind_index(id_number, purpose="id_number"), blind_index(phone, purpose="phone")
        if id_index in seen_ids:
            errors.append({"line": row.line, "column": "身份证号",
                           "message": _("身份证号与第 {value} 行重复，请删除重复的行").format(value=seen_ids[id_index])})
            continue
        if phone_index in seen_phones:
            errors.append({"line": row.line, "column": "手机号",
                           "message": _("手机号与第 {value} 行重复，一个手机号只能对应一名人员").format(value=seen_phones[phone_index])})
            continue
        seen_ids[id_index], seen_phones[phone_index] = row.line, row.line
        clash = _existing(merchant, id_index=id_index, phone_index=phone_index)
        if clash:
            column, relationship = clash
            errors.append({"line": row.line, "column": column, "message": str(TERMINATED_MESSAGE)
                           if relationship.status == MemberMerchant.Status.TERMINATED else _("该人员已在本企业名单中（状态：{status}），请从文件中删除此行").format(status=relationship.get_status_display())})
            continue
        clean.append((name, id_number, phone))
    if errors:
        first = errors[0]
        more = _("，共 {n_errors} 行有误").format(n_errors=len(errors)) if len(errors) > 1 else ""
        raise UploadRejected(
            _("第 {line} 行“{column}”列：{message}{more}。文件未导入任何人员，请修改后重新上传").format(line=first['line'], column=first['column'], message=first['message'], more=more),
            extra={"errors": errors},
        )
    created = [
        _create_invitation(merchant=merchant, name=name, id_number=id_number, phone=phone, actor=actor, now=now,
                           source=MemberMerchant.Source.UPLOAD)
        for name, id_number, phone in clean
    ]
    audit.record(event="members.worker.list_imported", now=now, actor=actor, merchant=merchant,
                 subject_type="members.membermerchant", subject_id="bulk", after={"count": len(created)})
    return created


@transaction.atomic
def worker_remind(*, merchant, relationship_id: int, actor, now: dt.datetime) -> MemberMerchant:
    """Send the invitation link again to a worker who has not signed yet; once per ``MEMBERS_REMIND_INTERVAL_HOURS``.

    Raises NotFound (also for another enterprise's worker), NotSignable (already signed or terminated), ReminderTooSoon.
    """
    relationship = get_for_tenant(MemberMerchant.objects.select_for_update(), merchant=merchant, pk=relationship_id,
                                  message=_("未找到该人员，请刷新人员列表"))
    if relationship.status in (MemberMerchant.Status.SIGNED, MemberMerchant.Status.TERMINATED):
        raise NotSignable(_("该人员状态为“{status}”，无需提醒").format(status=relationship.get_status_display()))
    hours = int(conf.get("MEMBERS_REMIND_INTERVAL_HOURS"))
    if relationship.last_reminded_at and now - relationship.last_reminded_at < dt.timedelta(hours=hours):
        raise ReminderTooSoon(_("已于 {last_reminded_at:%m月%d日 %H:%M} 提醒过该人员，{hours} 小时内只能提醒一次").format(last_reminded_at=relationship.last_reminded_at, hours=hours),
                              extra={"last_reminded_at": relationship.last_reminded_at.isoformat()})
    phone = relationship.invite_phone or relationship.member.user.phone
    if not relationship.invite_token:
        relationship.invite_token = secrets.token_urlsafe(24)
    relationship.last_reminded_at = now
    relationship.reminder_count += 1
    relationship.save(update_fields=["invite_token", "last_reminded_at", "reminder_count", "updated_at"])
    audit.record(event="members.worker.reminded", now=now, actor=actor, subject=relationship,
                 after={"reminder_count": relationship.reminder_count, "status": relationship.status})
    sms_send(phone=phone, template="invitation", params={"merchant": merchant.name, "link": invite_link(relationship)},
             now=now)
    return relationship


@transaction.atomic
def invitation_accept(*, user, token: str, now: dt.datetime, ip: str = "") -> MemberMerchant:
    """The signed-in worker accepts an invitation: the relationship is linked to their member (REGISTERED, or VERIFIED
    when they are already verified). Accepting twice returns the same relationship.

    Raises InvitationInvalid (unknown, withdrawn, for another phone or another person), AlreadyInvited.
    """
    relationship = MemberMerchant.objects.select_for_update().filter(invite_token=token or "-").first()
    if relationship is None or relationship.status == MemberMerchant.Status.TERMINATED:
        raise InvitationInvalid(_("邀请链接无效或已失效，请联系邀请您的企业重新发送邀请"))
    member = member_ensure(user=user)
    if relationship.member_id == member.pk:
        return relationship
    if relationship.member_id is not None:
        raise InvitationInvalid(_("该邀请已被其他账号接受；如非本人操作，请联系邀请您的企业"))
    if relationship.invite_phone_index and relationship.invite_phone_index != user.phone_index:
        raise InvitationInvalid(
            _("该邀请发送给手机号 {invite_phone}，请退出后用该手机号登录，再打开邀请链接").format(invite_phone=mask_phone(relationship.invite_phone)))
    if member.is_verified and relationship.invite_id_number_index not in (None, member.id_number_index):
        raise InvitationInvalid(_("企业登记的身份证号与您的实名信息不一致，请联系邀请您的企业核对后重新邀请"))
    if MemberMerchant.objects.for_tenant(relationship.merchant_id).filter(member=member).exists():
        raise AlreadyInvited(_("您已加入该企业，请在“我的企业”中查看"))
    if member.is_verified:
        relationship.mark_verified(member=member, at=now)
    else:
        relationship.register(member=member, at=now)
    relationship.save(update_fields=["status", "member", "registered_at", "updated_at"])
    audit.record(event="members.invitation.accepted", now=now, actor=user, subject=relationship, ip=ip,
                 after={"status": relationship.status})
    return relationship
