"""线下签约: operations register a worker on their behalf, with the signed paper contract uploaded as the agreement."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from accounts.models import Kind, Role, User
from core import audit
from core.exceptions import ValidationFailed
from core.pii import blind_index, mask_id_number, mask_phone
from core.validators import validate_mobile, validate_resident_id
from members import conf
from members.exceptions import AlreadySigned, IdNumberTaken, NotSignable
from members.models import Agreement, Member, MemberMerchant
from members.rules import check_age
from members.services._common import clean_name, local_date
from members.services.agreements import CURRENT_TEMPLATE, agreement_number
from members.services.verification import id_number_taken_error

_CONTRACT_TYPES = {".pdf": (b"%PDF", "application/pdf"), ".jpg": (b"\xff\xd8\xff", "image/jpeg"),
                   ".jpeg": (b"\xff\xd8\xff", "image/jpeg"), ".png": (b"\x89PNG", "image/png")}


def check_contract_file(*, filename: str, content: bytes) -> str:
    """The paper contract scan: PDF, JPG or PNG (checked by content, not only by name), within the size limit.
    Returns the content type. Raises ValidationFailed."""
    lower = (filename or "").lower()
    extension = next((ext for ext in _CONTRACT_TYPES if lower.endswith(ext)), None)
    if extension is None:
        raise ValidationFailed(gettext("合同文件“{filename}”类型不支持：请上传纸质合同的 PDF 或 JPG/PNG 扫描件").format(filename=filename),
                               extra={"form_field": "contract"})
    limit = int(conf.get("MEMBERS_CONTRACT_MAX_BYTES"))
    if len(content) > limit:
        raise ValidationFailed(gettext("合同文件过大（{value:.1f} MB），不能超过 {value2} MB").format(value=len(content) / 1024 / 1024, value2=limit // 1024 // 1024),
                               extra={"form_field": "contract"})
    magic, content_type = _CONTRACT_TYPES[extension]
    if not content.startswith(magic):
        raise ValidationFailed(gettext("合同文件“{filename}”的内容不是有效的 {value} 文件，请重新扫描或导出后上传").format(filename=filename, value=extension[1:].upper()),
                               extra={"form_field": "contract"})
    return content_type


def member_register_offline(*, merchant, name: str, id_number: str, phone: str, contract_filename: str,
                            contract_content: bytes, signed_on: dt.date, actor, now: dt.datetime,
                            ip: str = "") -> MemberMerchant:
    """Register a worker offline: the worker's account (by phone), identity checked in person by operations
    (method OFFLINE), the relationship SIGNED with the uploaded paper contract as its agreement.

    Raises ValidationFailed, AgeNotAllowed, IdNumberTaken, AlreadySigned.
    """
    name = clean_name(name)
    today = local_date(now)
    resident = validate_resident_id(id_number or "", today=today)
    check_age(resident, today=today)
    phone = validate_mobile(phone or "")
    content_type = check_contract_file(filename=contract_filename, content=contract_content)
    if signed_on > today:
        raise ValidationFailed(gettext("合同签署日期不能晚于今天"), extra={"form_field": "signed_on"})
    id_index = blind_index(resident.number, purpose="id_number")
    phone_index = blind_index(phone, purpose="phone")
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().filter(phone_index=phone_index).first()
            if user is not None and user.kind != Kind.WORKER:
                raise ValidationFailed(gettext("手机号 {phone} 已用于员工账号，不能登记为灵工人员").format(phone=mask_phone(phone)),
                                       extra={"form_field": "phone"})
            if user is None:
                user = User.objects.create_user(f"w{secrets.token_hex(8)}", role=Role.WORKER, kind=Kind.WORKER,
                                                phone=phone, full_name=name)
            member, _ = Member.objects.select_for_update().get_or_create(user=user)
            other = Member.objects.filter(id_number_index=id_index).exclude(pk=member.pk).select_related("user").first()
            if other is not None:
                raise id_number_taken_error(other)
            if member.is_verified and member.id_number_index != id_index:
                raise IdNumberTaken(gettext("手机号 {phone} 的账号已用另一身份证号实名，请核对手机号和身份证号").format(phone=mask_phone(phone)),
                                    extra={"form_field": "id_number"})
            if not member.is_verified:
                member.set_identity(name=name, id_number=resident.number)
                member.birth_date = resident.birth_date
                member.mark_verified(at=now, via=Member.Method.OFFLINE)
                member.save()
                if not user.full_name:
                    user.full_name = name
                    user.save(update_fields=["full_name"])
            relationship = (MemberMerchant.objects.select_for_update().for_tenant(merchant)
                            .filter(member=member).first()
                            or MemberMerchant.objects.select_for_update().for_tenant(merchant)
                            .filter(invite_id_number_index=id_index, member__isnull=True).first())
            if relationship is None:
                relationship = MemberMerchant.objects.create(merchant=merchant, source=MemberMerchant.Source.OFFLINE,
                                                             invited_by=actor, invited_at=now)
            if relationship.status == MemberMerchant.Status.SIGNED:
                raise AlreadySigned(gettext("该人员已与本企业签约，无需重复登记"))
            if relationship.status == MemberMerchant.Status.TERMINATED:
                raise NotSignable(gettext("该人员与本企业的合作已解约，不能再次登记；如需恢复合作，请联系技术支持"))
            if relationship.status != MemberMerchant.Status.VERIFIED:
                relationship.mark_verified(member=member, at=now)
            signed_at = now if signed_on == today else dt.datetime.combine(signed_on, dt.time(12), tzinfo=now.tzinfo)
            relationship.sign(at=signed_at)
            relationship.save()
            agreement = Agreement(
                merchant=merchant, relationship=relationship, member=member, number=agreement_number(relationship),
                template_version=f"{CURRENT_TEMPLATE}-paper", method=Agreement.Method.OFFLINE,
                content_type=content_type, sha256=hashlib.sha256(contract_content).hexdigest(), signed_at=signed_at,
                signed_ip=ip or None, signed_by=actor,
            )
            agreement.file.save(contract_filename.rsplit("/", 1)[-1][-60:], ContentFile(contract_content), save=False)
            agreement.save()
            audit.record(event="members.worker.registered_offline", now=now, actor=actor, subject=relationship, ip=ip,
                         after={"name": member.name_masked, "id_number": mask_id_number(resident.number),
                                "phone": mask_phone(phone), "agreement": agreement.number, "sha256": agreement.sha256})
    except IntegrityError:
        raise IdNumberTaken(gettext("该身份证号或手机号刚刚已被登记，请刷新后核对")) from None
    return relationship
