"""The audit service waits for supervision and notification only so long, then answers 503 (nameko's RPC proxies
would wait forever for a service that is down or slow)."""

from __future__ import annotations

from uuid import uuid4

import eventlet
import pytest

from services.audit.peers import Peers, PeerUnavailable


class SilentNotification:
    """Stands in for the RPC proxy of a notification service that never answers."""

    def case_aggregates(self, petition_id: str, caller: str, step_event_ids: list[str]) -> list[str]:
        eventlet.sleep(5)
        return []


def test_a_peer_that_does_not_answer_in_time_is_unavailable() -> None:
    peers = Peers(SilentNotification(), None, lambda service, method: "assertion",
                  within=lambda: eventlet.Timeout(0.05, TimeoutError("no answer")))

    with pytest.raises(PeerUnavailable, match="notification"):
        peers.notification_aggregates(uuid4())
