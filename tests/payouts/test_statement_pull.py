"""The scheduled pull: the bank sandbox's incoming statement is fetched over HTTP and imported; again is a no-op."""

import datetime as dt

import pytest

from core.testing.jobs import run_job
from ledger import selectors as ledger_selectors
from ledger import services as ledger_services
from payouts.channels.sandbox.server import ChannelSandbox, SandboxConfig
from payouts.jobs import statement_pull_job
from payouts.models import IncomingTransfer, StatementImport, TopUpAccount
from payouts.services import statement_pull

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(tmp_path, settings):
    box = ChannelSandbox(db_path=tmp_path / "sb.sqlite3", port=0,
                         config=SandboxConfig(secret=settings.CHANNEL_SANDBOX_SECRET)).start()
    settings.CHANNEL_SANDBOX_URL = box.url
    yield box
    box.stop()


def test_statement_pull_imports_transfers_the_notices_missed(sandbox, merchant, now):
    ledger_services.merchant_accounts_open(merchant=merchant, now=now)
    account = TopUpAccount.objects.get(merchant=merchant).account_number
    row = sandbox.topup(virtual_account=account, amount_fen=321_00, payer_name="某公司", payer_account="6222020200112233445",
                        notify=False)
    sandbox.topup(virtual_account="", amount_fen=5_00, payer_name="路人", payer_account="6217000010012345678",
                  notify=False)
    day = dt.date.fromisoformat(row["day"])
    record = statement_pull(date=day, now=now)
    assert (record.source, record.created_transfers) == (StatementImport.Source.PULL, 2)
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == 321_00
    assert IncomingTransfer.objects.get(bank_serial=row["serial"]).status == IncomingTransfer.Status.MATCHED
    assert IncomingTransfer.objects.filter(status=IncomingTransfer.Status.UNMATCHED).count() == 1
    assert statement_pull(date=day, now=now) is None  # the same file again changes nothing
    assert StatementImport.objects.count() == 1


def test_statement_pull_job_runs_for_today_and_yesterday(sandbox):
    first = run_job(statement_pull_job, days_back=1)
    assert len(first) == 2  # yesterday's and today's files (empty ones are recorded too)
    assert run_job(statement_pull_job, days_back=1) == []
