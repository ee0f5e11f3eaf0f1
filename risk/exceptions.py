from core.exceptions import Conflict, ValidationFailed


class RiskRejected(ValidationFailed):
    code = "risk_rejected"


class ListEntryExists(Conflict):
    code = "risk_list_entry_exists"
