"""notification's dispatcher process: `python -m services.notification.dispatcher`.

One log follower per channel reads the notification store in order and delivers each requested notice on its
channel, recording the outcome (a Delivery per notice and channel). Channels have separate positions, so an
SMTP outage holds back e-mail only, never the inbox. The inbox's position is written at most twice a second: a
crash delivers the batches since again, which the inbox shows once. Each e-mail is recorded as soon as it is
sent, and the dispatcher confirms it still holds its lock before each one: a crash between sending an e-mail and
recording it sends that one e-mail again on restart (SMTP offers no exactly-once; the stable Message-ID lets mail
systems recognise the duplicate), and a standby that took over never sends alongside a stalled predecessor.
SMS goes the same way as e-mail, with the Delivery's id as the provider's idempotency key: a crash between the
provider's acceptance and the record sends the request again, which the provider recognises. E-mail and SMS retry a
transient failure with back-off up to a limit, then record the delivery as failed (application.py); each also
follows the re-sends officers ask for on its channel (Delivery.ResendRequested).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from eventsourcing.utils import get_topic

from services.notification.application import NotificationApplication
from services.notification.bootstrap import build_application
from services.notification.channels import Channel, EmailChannel, InboxChannel, SmsChannel
from services.notification.domainmodel import Delivery, Notice
from services.notification.records import TOPICS, NoticeRecordProjection
from services.notification.settings import NotificationSettings
from shared.language.readmodels import connect_read_models
from shared.runtime.follower import LogFollower, StorePosition, single_active_lock
from shared.runtime.projector import Projector
from shared.runtime.workers import Worker, run_workers

log = logging.getLogger(__name__)


class ChannelDispatcher:
    def __init__(self, settings: NotificationSettings, application: NotificationApplication,
                 channel: Channel) -> None:
        self.application = application
        self.channel = channel
        follower = f"dispatch-{channel.name}"
        self.position = StorePosition(settings, "notification", follower)
        self.follower = LogFollower(
            f"notification.{follower}", application, self.handle_batch, self.position,
            single_active_lock(settings, "notification", follower), poll_interval=settings.follower_poll_interval,
            batch_size=20, settings=settings,
            # The notices, and (for a channel that may fail through its retries) the re-sends asked by hand.
            topics=[get_topic(Notice.Requested), *([] if channel.idempotent else [get_topic(Delivery.ResendRequested)])],
            # The inbox may deliver again harmlessly (keyed by notice id), so its position is written at most twice
            # a second, as the relays' are; e-mail's after every batch.
            save_position_every=0.5 if channel.idempotent else 0.0,
        )

    def handle_batch(self, items: Sequence[tuple[int, Any]]) -> None:
        requested = [event for _sequence, event in items if isinstance(event, Notice.Requested)]
        resends = [event for _sequence, event in items if isinstance(event, Delivery.ResendRequested)]
        # Between retries the dispatcher waits on its stopping event, and stands down (nothing recorded for the
        # notice in hand, which is attempted again on restart) once asked to stop.
        self.application.deliver(requested, self.channel, may_repeat=self.follower.resuming,
                                 still_active=self.still_active, pause=self.follower.stopping.wait)
        if resends:
            self.application.resend(resends, self.channel, still_active=self.still_active,
                                    pause=self.follower.stopping.wait)

    def still_active(self) -> bool:
        return not self.follower.stopping.is_set() and self.follower.still_active()

    def run(self) -> None:
        self.follower.run()

    def stop(self) -> None:
        self.follower.stop()

    def close(self) -> None:
        self.channel.close()
        self.position.close()


def build_dispatchers(settings: NotificationSettings, application: NotificationApplication) -> list[ChannelDispatcher]:
    dispatchers = [ChannelDispatcher(settings, application, InboxChannel())]
    if settings.smtp_host:
        dispatchers.append(ChannelDispatcher(settings, application, EmailChannel(settings)))
    else:
        log.warning("SMTP_HOST is not set: e-mail notices are kept and will be sent once it is configured")
    if settings.sms_url:
        dispatchers.append(ChannelDispatcher(settings, application, SmsChannel(settings)))
    else:
        log.warning("SMS_URL is not set: SMS notices are kept and will be sent once it is configured")
    return dispatchers


def build_workers(settings: NotificationSettings, application: NotificationApplication) -> list[Worker]:
    """The channels' dispatchers, and the notice records' projection (services/notification/records.py): a worker
    of its own, with its own position and lock, so a slow channel never holds back the clerks' records."""
    records = NoticeRecordProjection(application)
    records.prepare()
    return [*build_dispatchers(settings, application),
            Projector(settings, "notification", application, records, topics=TOPICS)]


def main() -> None:
    settings = NotificationSettings().for_follower()
    connect_read_models(settings.mongodb_uri)
    application = build_application(settings)
    try:
        run_workers("notification-dispatcher", settings, lambda: build_workers(settings, application))
    finally:
        application.close()


if __name__ == "__main__":
    main()
