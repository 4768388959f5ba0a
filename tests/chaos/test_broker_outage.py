"""With RabbitMQ down, petitions are still accepted (they are in the store); once it is back each is routed and
its receipt sent exactly once."""

from __future__ import annotations

import pytest

from tests.support import samples
from tests.support.platform import stored_events
from tests.support.waiting import wait_for

pytestmark = pytest.mark.chaos


def test_petitions_submitted_during_a_broker_outage_are_routed_and_receipted_exactly_once(
    private_broker, make_platform, smtp
):
    platform = make_platform(private_broker.amqp_uri)
    platform.start()
    platform.wait_ready()
    ns = platform.namespace
    with platform.http() as gateway:
        before = gateway.post("/api/v1/petitions", json=samples.petition(title="停电前提交"))
        assert before.status_code == 201

        private_broker.stop_app()
        during = [gateway.post("/api/v1/petitions", json=samples.petition(title=f"停电期间提交{i}")) for i in range(3)]
        assert [r.status_code for r in during] == [201, 201, 201]
        # The petitioner can already follow it: intake answers from its store.
        for receipt in during:
            shown = gateway.get(f"/api/v1/status/{receipt.json()['query_code']}")
            assert shown.status_code == 200 and shown.json()["status"] == "registered"
        private_broker.start_app()

        receipts = [before.json(), *(r.json() for r in during)]
        for receipt in receipts:
            wait_for(lambda r=receipt: gateway.get(f"/api/v1/status/{r['query_code']}").json()["organ"],
                     timeout=120, interval=0.5, what=f"petition {receipt['id']} to be routed after the outage")
            # The receipt, and the transfer notice of the routing rules' step: both name the query code.
            wait_for(lambda r=receipt: len([m for m in smtp.received()
                                            if r["query_code"] in m.get_payload(decode=True).decode()]) == 2,
                     timeout=120, interval=0.5, what=f"the receipt and transfer e-mails of {receipt['id']}")

    for receipt in receipts:
        pid = receipt["id"]
        assert stored_events(ns, "intake", "Petition.Registered", pid) == 1
        assert stored_events(ns, "routing", "Assignment.Routed", pid) == 1
        assert stored_events(ns, "supervision", "Case.Opened", pid) == 1
        assert stored_events(ns, "supervision", "Case.Transferred", pid) == 1
    # Three notices per petition: the receipt and the transfer notice to the petitioner, and the organ's e-mail.
    assert stored_events(ns, "notification", "Notice.Requested") == 3 * len(receipts)
    # The petitioner's two on the status page and by e-mail, the organ's by e-mail: once each; and exactly one
    # e-mail per notice reached the mail server (SMS is not configured here: those wait, recorded nowhere).
    wait_for(lambda: stored_events(ns, "notification", "Delivery.Concluded") == 5 * len(receipts),
             what="every delivery to be recorded")
    assert len(smtp.received()) == 3 * len(receipts)
