"""Payees for tests, the demo and the benchmark: verified workers signed with an enterprise, each with a bank card,
an Alipay account and one piece of accepted work ready to pay. Set-based (``bulk_create``), so 100,000 take seconds.

Not used by any request path. Identity numbers are valid (GB 11643 check character) and unique per ``seed``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

from core.pii import blind_index, mask_account, mask_bank_card
from core.validators import id_check_char

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英"]


@dataclass(frozen=True)
class Payee:
    name: str
    id_number: str
    phone: str
    bank_card: str
    alipay: str
    payable_id: int
    amount_fen: int
    member_id: int
    wechat: str = ""  # an openid, when made with ``wechat=True``


def id_number(seed: int, n: int) -> str:
    day = dt.date(1980, 1, 1) + dt.timedelta(days=(n // 1000) % 9000)
    body = f"{120101 + seed % 5:06d}{day:%Y%m%d}{n % 1000:03d}"
    return body + id_check_char(body)


def bank_card(seed: int, n: int) -> str:
    body = f"622202{seed % 100:02d}{n:010d}"
    digits = [int(c) for c in body][::-1]
    total = sum(sum(divmod(d * 2, 10)) if i % 2 == 0 else d for i, d in enumerate(digits))
    return body + str((10 - total % 10) % 10)


def wechat_openid(seed: int, merchant_id: int, n: int) -> str:
    """An openid of the shape WeChat gives (28 characters, "o" first), unique per seed, enterprise and index."""
    return f"o{seed % 100:02d}Wx{merchant_id % 10_000:04d}{n:018d}Q"  # (an account ending 0000 is a closed one in the sandbox)


def make_payees(*, merchant, count: int, now, seed: int = 1, amount_fen=10_000, actor=None,
                wechat: bool = False) -> list[Payee]:
    """``count`` payees for ``merchant`` (``amount_fen`` may be a function of the index). ``seed`` keeps several calls
    apart (identity numbers, usernames and phones are unique per seed). ``wechat``: each also gets a WeChat account
    (an openid bound to the platform's app)."""
    from accounts.models import Kind, Role, User
    from members.models import Member, MemberMerchant, PayoutAccount
    from tasks.models import PayableWork, Task, TaskAssignment, TaskCategory

    amount_of = amount_fen if callable(amount_fen) else (lambda i: amount_fen)
    users = [User(username=f"pay{seed}-{merchant.pk}-{i}", kind=Kind.WORKER, role=Role.WORKER, password="!")
             for i in range(count)]
    phones = [f"17{seed % 10}{(merchant.pk * 7 + i) % 100_000_000:08d}" for i in range(count)]
    for user, phone in zip(users, phones, strict=True):
        user.phone = phone
        user.phone_index = blind_index(phone, purpose="phone")
    User.objects.bulk_create(users, batch_size=2000)
    if users and users[0].pk is None:  # SQLite before 3.35 returns no ids
        users = list(User.objects.filter(username__startswith=f"pay{seed}-{merchant.pk}-").order_by("id"))
    members = []
    for i, user in enumerate(users):
        member = Member(user=user, verification_status=Member.Verification.VERIFIED, verified_at=now)
        member.set_identity(name=SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)],
                            id_number=id_number(seed, i))
        members.append(member)
    Member.objects.bulk_create(members, batch_size=2000)
    if members and members[0].pk is None:
        by_user = {m.user_id: m.pk for m in Member.objects.filter(user__in=users)}
        for member in members:
            member.pk = member.id = by_user[member.user_id]
    MemberMerchant.objects.bulk_create([MemberMerchant(merchant=merchant, member=m, status=MemberMerchant.Status.SIGNED,
                                                       signed_at=now) for m in members], batch_size=2000)
    cards = [bank_card(seed, i) for i in range(count)]
    alipays = [phones[i] for i in range(count)]
    accounts = []
    for i, member in enumerate(members):
        accounts.append(PayoutAccount(member=member, kind=PayoutAccount.Kind.BANK, account=cards[i],
                                      account_index=blind_index(cards[i], purpose="payout_account"),
                                      account_masked=mask_bank_card(cards[i]), bank_name="中国工商银行",
                                      is_default=True, verified_at=now))
        accounts.append(PayoutAccount(member=member, kind=PayoutAccount.Kind.ALIPAY, account=alipays[i],
                                      account_index=blind_index(alipays[i], purpose="payout_account"),
                                      account_masked=mask_account(alipays[i]), is_default=False))
        if wechat:
            openid = wechat_openid(seed, merchant.pk, i)
            accounts.append(PayoutAccount(member=member, kind=PayoutAccount.Kind.WECHAT, account=openid,
                                          account_index=blind_index(openid, purpose="payout_account"),
                                          account_masked=mask_account(openid), is_default=False))
    PayoutAccount.objects.bulk_create(accounts, batch_size=2000)
    category = TaskCategory.objects.filter(code="payout-demo").first() or TaskCategory.objects.create(
        code="payout-demo", name="劳务服务", pricing_modes=["PIECE", "HOUR", "FIXED"], min_unit_price_fen=1,
        max_unit_price_fen=100_000_000)
    amounts = [amount_of(i) for i in range(count)]
    task = Task(merchant=merchant, title="门店促销与配送服务", description="按件结算的门店促销与同城配送服务，验收后付款。",
                category=category, is_remote=True, headcount=max(count, 1), pricing_mode="FIXED",
                unit_price_fen=max(amounts) if amounts else 1, quantity_per_worker=Decimal("1"),
                budget_fen=max(sum(amounts), 1), starts_at=now - dt.timedelta(days=7), ends_at=now - dt.timedelta(days=1),
                deadline_at=now - dt.timedelta(days=8), created_by=actor, published_at=now - dt.timedelta(days=9))
    Task.objects.bulk_create([task])
    if task.pk is None:
        task = Task.objects.filter(merchant=merchant).order_by("-id").first()
    Task.objects.filter(pk=task.pk).update(status=Task.Status.COMPLETED)
    assignments = [TaskAssignment(merchant=merchant, task=task, member=m, status=TaskAssignment.Status.ACCEPTED, planned_quantity=1,
                                  applied_at=now - dt.timedelta(days=8), accepted_quantity=1, decided_at=now)
                   for m in members]
    TaskAssignment.objects.bulk_create(assignments, batch_size=2000)
    if assignments and assignments[0].pk is None:
        by_member = {a.member_id: a.pk for a in TaskAssignment.objects.filter(task=task)}
        for a in assignments:
            a.pk = a.id = by_member[a.member_id]
    payables = [PayableWork(merchant=merchant, task=task, assignment=a, member=m, quantity=1,
                            unit_price_fen=amounts[i], amount_fen=amounts[i], accepted_at=now)
                for i, (a, m) in enumerate(zip(assignments, members, strict=True))]
    PayableWork.objects.bulk_create(payables, batch_size=2000)
    if payables and payables[0].pk is None:
        by_member = {p.member_id: p.pk for p in PayableWork.objects.filter(task=task)}
        for p in payables:
            p.pk = p.id = by_member[p.member_id]
    return [Payee(name=m.name, id_number=m.id_number, phone=phones[i], bank_card=cards[i], alipay=alipays[i],
                  payable_id=payables[i].pk, amount_fen=amounts[i], member_id=m.pk,
                  wechat=wechat_openid(seed, merchant.pk, i) if wechat else "")
            for i, m in enumerate(members)]


def batch_csv(payees: list[Payee], *, channel: str = "BANK", amounts: list[int] | None = None) -> bytes:
    """A batch file (the template's columns) paying ``payees``."""
    from core.money import format_yuan
    from payouts.batch_file import TEMPLATE_HEADERS

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TEMPLATE_HEADERS)
    for i, p in enumerate(payees):
        amount = amounts[i] if amounts else p.amount_fen
        account = {"BANK": p.bank_card, "ALIPAY": p.alipay, "WECHAT": p.wechat}[channel]
        if not account:
            raise ValueError(f"payee {p.member_id} has no {channel} account (make_payees(wechat=True) for WeChat)")
        writer.writerow([p.name, p.id_number, p.phone, account,
                         format_yuan(amount), "劳务报酬", str(p.payable_id), ""])
    return out.getvalue().encode("utf-8")
