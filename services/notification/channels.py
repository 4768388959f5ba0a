"""Delivery channels: the in-app inbox and SMTP e-mail (SMS over an HTTP gateway comes later).

A channel either delivers, or raises `PermanentDeliveryFailure` (retrying cannot help: record it and move on),
or raises anything else (a transient failure: the dispatcher retries with back-off).
"""

from __future__ import annotations

import smtplib
from datetime import datetime, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Protocol

from services.notification.domainmodel import OutgoingNotice
from services.notification.settings import NotificationSettings
from shared.readmodels import InboxMessage


class PermanentDeliveryFailure(Exception):
    pass


class Channel(Protocol):
    name: str

    def deliver(self, notice: OutgoingNotice) -> str:
        """Deliver the notice; returns a short detail for the record (never the full address)."""

    def close(self) -> None:
        """Release any connection held between deliveries."""


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


class InboxChannel:
    """The petitioner's in-app inbox (read through the query code). Idempotent: keyed by the notice id."""

    name = "inbox"

    def close(self) -> None:
        pass

    def deliver(self, notice: OutgoingNotice) -> str:
        InboxMessage.objects(notice_id=str(notice.id)).update_one(
            upsert=True,
            set__petition_id=str(notice.petition_id),
            set__query_code=notice.query_code,
            set__kind=notice.kind,
            set__title=notice.title,
            set__body=notice.body,
            set_on_insert__delivered_at=datetime.now(timezone.utc),
        )
        return "站内信"


class EmailChannel:
    """SMTP e-mail. One connection is kept across deliveries (a mail server answers in milliseconds, connecting
    costs more); if the server dropped it meanwhile, the next delivery reconnects once."""

    name = "email"

    def __init__(self, settings: NotificationSettings) -> None:
        self._settings = settings
        self._domain = parseaddr(settings.sender)[1].partition("@")[2] or "localhost"
        self._smtp: smtplib.SMTP | None = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            settings = self._settings
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout)
            try:
                if settings.smtp_starttls:
                    smtp.starttls()
                if settings.smtp_username:
                    smtp.login(settings.smtp_username, settings.smtp_password)
            except BaseException:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def compose(self, notice: OutgoingNotice) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._settings.sender
        message["To"] = Address(display_name=notice.recipient.get("name", ""), addr_spec=notice.recipient["email"])
        message["Subject"] = notice.title
        message["Date"] = format_datetime(datetime.now(timezone.utc))
        # A stable Message-ID: if a crash makes us send twice, mail systems can recognise the duplicate.
        message["Message-ID"] = f"<{notice.id}.email@{self._domain}>"
        message.set_content(notice.body)
        return message

    def deliver(self, notice: OutgoingNotice) -> str:
        address = notice.recipient.get("email")
        if not address:
            raise PermanentDeliveryFailure("no e-mail address")
        message = self.compose(notice)
        try:
            try:
                self._connection().send_message(message)
            except smtplib.SMTPServerDisconnected:
                # An idle connection the server closed: nothing was accepted on it, so sending again is safe.
                self.close()
                self._connection().send_message(message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as error:
            self.close()
            raise PermanentDeliveryFailure(f"mail server refused the message: {error}") from None
        except smtplib.SMTPResponseException as error:
            self.close()
            if 500 <= error.smtp_code < 600:
                raise PermanentDeliveryFailure(f"mail server refused the message: {error.smtp_code}") from None
            raise
        except (smtplib.SMTPException, OSError):
            self.close()
            raise
        return f"已发送至{mask_email(address)}"
