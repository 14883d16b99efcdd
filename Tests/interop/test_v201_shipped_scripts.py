"""The shipped scripts serve 2.0.1 charging stations unchanged (docs/ocpp201.md: one script serves both
versions): the authorization list, the site's transaction cap, and the SCADA remote-start button."""

from __future__ import annotations

import uuid

import pytest
from ocpp.v201 import call

from conftest import running_bridge
from v201 import boot201, cp201, id_token, transaction_event


@pytest.fixture(scope="module")
def shipped():
    with running_bridge("ocpp-bridge-v201-scripts-", shipped_scripts=True) as bridge:
        yield bridge


def status_of(result) -> str:
    return result.id_token_info["status"]


async def test_the_authorization_list_decides_201_authorize_and_transactions(shipped, cp_id):
    api = shipped.api
    await api.wait_tag("Auth.AcceptUnknown", True)
    status, _ = await api.arequest("PUT", api.tag_path("Auth.List.STOLEN201.Status"), {"value": "Blocked"})
    assert status == 200
    async with cp201(shipped, cp_id) as cp:
        await boot201(cp)
        welcome = await cp.call(call.Authorize(id_token=id_token("new-driver-201")), suppress=False)
        assert status_of(welcome) == "Accepted", "unknown idTags are accepted by default"
        stolen = await cp.call(call.Authorize(id_token=id_token("stolen201")), suppress=False)
        assert status_of(stolen) == "Blocked", "compared case-insensitively, as the script does"
        tx = uuid.uuid4().hex[:12]
        refused = await transaction_event(cp, "Started", tx, 0, "Authorized", evse_id=1, token=id_token("STOLEN201"))
        assert status_of(refused) == "Blocked"
        # The station ends a transaction its driver was refused for.
        await transaction_event(cp, "Ended", tx, 1, "Deauthorized", stopped_reason="DeAuthorized")
        await api.wait_tag(f"{cp_id}.Connector1.Transaction.Active", False)


async def test_the_site_cap_counts_201_transactions(shipped, cp_id):
    api = shipped.api
    status, _ = await api.arequest("PUT", api.tag_path("Site.MaxConcurrentTransactions"), {"value": 1})
    assert status == 200
    try:
        async with cp201(shipped, cp_id) as cp:
            await boot201(cp)
            first = uuid.uuid4().hex[:12]
            started = await transaction_event(cp, "Started", first, 0, "Authorized", evse_id=1, token=id_token("DRIVER-A"))
            assert status_of(started) == "Accepted"
            await api.wait_tag("Site.ActiveTransactions", lambda v: isinstance(v, int) and v >= 1)
            second = await transaction_event(cp, "Started", uuid.uuid4().hex[:12], 0, "Authorized", evse_id=2,
                                             token=id_token("DRIVER-B"))
            assert status_of(second) == "Blocked", "the site is full"
            await transaction_event(cp, "Ended", first, 1, "StopAuthorized", stopped_reason="Local")
    finally:
        await api.arequest("PUT", api.tag_path("Site.MaxConcurrentTransactions"), {"value": 0})


async def test_the_remote_start_button_starts_a_201_transaction(shipped, cp_id):
    api = shipped.api
    async with cp201(shipped, cp_id) as cp:
        await boot201(cp)
        for name, value in [(f"{cp_id}.Button.RemoteStart.IdTag", "SCADA-201"), (f"{cp_id}.Button.RemoteStart.Connector", 2),
                            (f"{cp_id}.Button.RemoteStart", True)]:
            status, _ = await api.arequest("PUT", api.tag_path(name), {"value": value})
            assert status == 200
        request = await cp.wait_received("RequestStartTransaction", timeout=10)
        assert request["id_token"] == {"id_token": "SCADA-201", "type": "Central"}
        assert request["evse_id"] == 2
        await api.wait_tag(f"{cp_id}.Button.RemoteStart.Result", "Accepted")
        await api.wait_tag(f"{cp_id}.Button.RemoteStart", False)
