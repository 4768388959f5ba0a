"""Delivery channels: the status page's list of notices (`inbox`), SMTP e-mail and SMS through an HTTP provider.

A channel either delivers, or raises `PermanentDeliveryFailure` (retrying cannot help: record it and move on),
or raises anything else (a transient failure: the application retries e-mail and SMS with back-off up to a limit,
then records the delivery as failed; the dispatcher retries the inbox's batch).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from email import policy
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr, quote
from typing import Protocol, runtime_checkable

import urllib3
from email_validator import EmailNotValidError, validate_email
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from services.notification.domainmodel import Delivery, OutgoingNotice
from services.notification.settings import NotificationSettings
from shared.language.contracts.identity import mobile_or_none
from shared.language.contracts.text import one_line, unsafe_character
from shared.language.readmodels import InboxMessage, insert_new

log = logging.getLogger(__name__)


class PermanentDeliveryFailure(Exception):
    """Its message goes into the delivery record: it names no address (servers quote it in their answers)."""


class DeliveryDeferred(smtplib.SMTPException):
    """The mail server answered 4xx: try again later. Stands in for smtplib's error, whose text holds the address."""


class Channel(Protocol):
    name: str
    idempotent: bool  # delivering twice is harmless (the inbox); e-mail is not

    def deliver(self, notice: OutgoingNotice) -> str:
        """Deliver the notice; returns a short detail for the record (never the full address)."""

    def close(self) -> None:
        """Release any connection held between deliveries."""


@runtime_checkable
class BatchChannel(Channel, Protocol):
    """An idempotent channel that takes a whole batch in one request (a transient failure fails the batch)."""

    def deliver_all(self, notices: Sequence[OutgoingNotice]) -> list[str]:
        """Deliver every notice; returns each one's detail, in order."""


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


class InboxChannel:
    """The petitioner's status page (read with the query code), which lists every notice: where notices live, not a
    receipt. Idempotent: keyed by the notice id."""

    name = "inbox"
    idempotent = True

    def close(self) -> None:
        pass

    def deliver(self, notice: OutgoingNotice) -> str:
        return self.deliver_all([notice])[0]

    def deliver_all(self, notices: Sequence[OutgoingNotice]) -> list[str]:
        """Deliver a batch in one write. Inserts, not upserts: a notice's inbox entry never changes, and an entry
        there already was delivered before (a batch repeated after a restart), so the inbox shows it once, as
        first delivered. SecantusDB takes 20 inserts in one request at a quarter of the cost of one request
        each (measured: 0.55 against 2.6 ms of its CPU per 2 KB entry), and an insert at about half the cost
        of an update that must find the document first."""
        if not notices:
            return []
        now = datetime.now(UTC)
        entries = [InboxMessage(notice_id=str(n.id), petition_id=str(n.petition_id), query_code=n.query_code,
                                kind=n.kind, title=n.title, body=n.body, delivered_at=now).to_mongo().to_dict()
                   for n in notices]
        insert_new(InboxMessage._get_collection(), entries)
        # Published on the status page: where notices live, not a receipt (no clock counts from it).
        return ["已在查询页面公布"] * len(notices)


def valid_address(address: str) -> str:
    """The recipient's address as email-validator parses and normalises it (its ASCII form when it has one).
    The envelope is addressed to this and nothing else: never to what a header parser makes of the message."""
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        raise PermanentDeliveryFailure("the e-mail address is not valid") from None
    return checked.ascii_email or checked.normalized


def header_value(field: str, value: str) -> str:
    """`value`, unless it holds a line break or another control character (or a bidi control): then the e-mail is
    refused. Independent of input validation, and needed: Python 3.11.7's email package writes a newline in a
    header as it is (CVE-2024-6923), which let a petitioner's name add recipients and headers (issue 14)."""
    bad = unsafe_character(value)
    if bad is not None:
        raise PermanentDeliveryFailure(f"the {field} header would contain U+{ord(bad):04X}: not sent")
    return value


class EmailChannel:
    """SMTP e-mail. One connection is kept across deliveries (a mail server answers in milliseconds, connecting
    costs more); if the server dropped it meanwhile, the next delivery reconnects once."""

    name = "email"
    idempotent = False

    def __init__(self, settings: NotificationSettings) -> None:
        self._settings = settings
        self._envelope_sender = parseaddr(settings.sender)[1]
        self._domain = self._envelope_sender.partition("@")[2] or "localhost"
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

    def compose(self, notice: OutgoingNotice) -> Message:
        """The e-mail for `notice`; PermanentDeliveryFailure if its address or a header value is unsafe."""
        return self._compose(notice, valid_address(notice.recipient["email"]))

    def _compose(self, notice: OutgoingNotice, address: str) -> Message:
        name = header_value("To", notice.recipient.get("name") or "")
        header_value("Subject", notice.title)
        header_value("From", self._settings.sender)
        if address.isascii():
            # The classic (compat32) message API: headers in RFC 2047 encoded words, the body base64 in UTF-8. The
            # same message as the modern EmailMessage API gives, at a sixth of its cost (measured: 0.27 against
            # 1.65 ms to compose and serialise), which was almost half of the dispatcher's CPU per petition.
            message: Message = MIMEText(notice.body, "plain", "utf-8")
            message["To"] = formataddr((name, address), charset="utf-8")
            message["From"] = formataddr(parseaddr(self._settings.sender), charset="utf-8")
            message["Subject"] = Header(notice.title, "utf-8")
        else:
            # An address with non-ASCII characters (e.g. 王秀兰@example.cn) needs SMTPUTF8 end to end.
            message = EmailMessage(policy=policy.SMTPUTF8)
            message["To"] = f'"{quote(name)}" <{address}>'  # Address() refuses a non-ASCII local part
            message["From"] = self._settings.sender
            message["Subject"] = notice.title
            message.set_content(notice.body)
        message["Date"] = format_datetime(datetime.now(UTC))
        # A stable Message-ID: if a crash makes us send twice, mail systems can recognise the duplicate.
        message["Message-ID"] = f"<{notice.id}.email@{self._domain}>"
        return message

    def deliver(self, notice: OutgoingNotice) -> str:
        """Transient failures (the server cannot be reached, times out, or answers 4xx) raise; anything else
        is a permanent refusal, so that one undeliverable notice never holds back the ones after it."""
        if not notice.recipient.get("email"):
            raise PermanentDeliveryFailure("no e-mail address")
        try:
            address = valid_address(notice.recipient["email"])
            message = self._compose(notice, address)
        except PermanentDeliveryFailure:
            raise
        except Exception as error:  # noqa: BLE001 - an address or text that cannot be put in an e-mail
            raise PermanentDeliveryFailure(f"cannot compose an e-mail to this address ({type(error).__name__})"
                                           ) from None
        try:
            # The envelope explicitly: the validated address only, never what smtplib would read from the headers.
            envelope = {"from_addr": self._envelope_sender, "to_addrs": [address]}
            try:
                self._connection().send_message(message, **envelope)
            except smtplib.SMTPServerDisconnected:
                # An idle connection the server closed: nothing was accepted on it, so sending again is safe.
                self.close()
                self._connection().send_message(message, **envelope)
        except smtplib.SMTPRecipientsRefused as error:
            self.close()
            codes = sorted({code for code, _ in error.recipients.values()})
            if all(400 <= code < 500 for code in codes):
                raise DeliveryDeferred(f"mail server deferred the address: {codes}") from None  # e.g. greylisting
            raise PermanentDeliveryFailure(f"mail server refused the address: {codes}") from None
        except smtplib.SMTPResponseException as error:
            self.close()
            if 400 <= error.smtp_code < 500:
                raise DeliveryDeferred(f"mail server deferred the message: {error.smtp_code}") from None
            raise PermanentDeliveryFailure(f"mail server refused the message: {error.smtp_code}") from None
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError):
            self.close()
            raise
        except Exception as error:  # noqa: BLE001 - e.g. SMTPNotSupportedError (no SMTPUTF8)
            self.close()
            raise PermanentDeliveryFailure(f"mail server cannot take this message ({type(error).__name__})"
                                           ) from None
        return f"已发送至{mask_email(address)}"


class TransientDeliveryFailure(Exception):
    """Worth trying again (the provider did not answer, or answered 5xx, 408 or 429). `reason`: why, in Chinese, for
    the record of a delivery that failed through its retries (it names no number)."""

    def __init__(self, message: str, reason: str = "服务器无应答") -> None:
        super().__init__(message)
        self.reason = reason


def mask_mobile(number: str) -> str:
    """13812345678 → 138****5678: what a delivery records of a mobile number."""
    return f"{number[:3]}****{number[-4:]}"


def sms_text(notice: OutgoingNotice, settings: NotificationSettings) -> tuple[str, bool]:
    """The SMS for `notice` and whether it was shortened: the signature (短信签名) and the whole notice if that fits
    in SMS_MAX_CHARS, otherwise the notice's title, its query code and where to read it in full (the status page,
    which lists every notice). A title too long for even that is cut."""
    whole = f"{settings.sms_signature_name}{notice.body}"
    if len(whole) <= settings.sms_max_chars:
        return whole, False
    where = settings.status_url or "信访事项查询页面"
    short = "{sign}您的信访事项有新的告知：《{title}》，查询码{code}。全文请凭查询码在{where}查看。"
    values = {"sign": settings.sms_signature_name, "code": notice.query_code, "where": where}
    title = one_line(notice.title)
    room = settings.sms_max_chars - len(short.format(title="", **values))
    if len(title) > room:
        title = title[:max(room - 1, 0)] + "…"
    return short.format(title=title, **values), True


def sms_signature(secret: str, timestamp: str, idempotency_key: str, body: bytes) -> str:
    """The request's signature: hex HMAC-SHA256 with SMS_SECRET over "<timestamp>\\n<idempotency key>\\n<body>"."""
    message = f"{timestamp}\n{idempotency_key}\n".encode() + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sms_request(number: str, text: str, idempotency_key: str, settings: NotificationSettings,
                timestamp: str) -> tuple[bytes, dict[str, str]]:
    """The provider request's body (JSON: the text, whatever it holds, only ever as a JSON string) and headers (our
    own values only: the account, checked at start, a UUID, a timestamp, a hex digest)."""
    body = json.dumps({"to": number, "text": text, "idempotency_key": idempotency_key},
                      ensure_ascii=False).encode("utf-8")
    return body, {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": idempotency_key,
        "X-Sms-Account": settings.sms_account,
        "X-Sms-Timestamp": timestamp,
        "X-Sms-Signature": sms_signature(settings.sms_secret, timestamp, idempotency_key, body),
    }


def sms_outcome(status: int) -> None:
    """Nothing for a 2xx; raises TransientDeliveryFailure for 5xx, 408 and 429 (try again later) and for 401, 403
    and 407 (our credentials or clock are wrong: every message fails alike until ops fix them, so each ends `failed`,
    listed and re-sendable, never refused for good), else PermanentDeliveryFailure (the provider refused this
    message: the number or the text)."""
    if 200 <= status < 300:
        return
    if status >= 500:
        raise TransientDeliveryFailure(f"SMS provider answered {status}", f"短信服务商暂时无法处理（HTTP {status}）")
    if status in (408, 429):
        raise TransientDeliveryFailure(f"SMS provider answered {status}", f"短信服务商暂不接收（HTTP {status}）")
    if status in (401, 403, 407):
        log.error("the SMS provider refused our credentials (HTTP %d): check SMS_ACCOUNT, SMS_SECRET and the clock",
                  status)
        raise TransientDeliveryFailure(f"SMS provider answered {status}", f"短信服务商认证失败（HTTP {status}）")
    raise PermanentDeliveryFailure(f"短信服务商拒绝发送（HTTP {status}）")


class SmsChannel:
    """SMS through the provider's HTTP API (SMS_URL). Each request carries an idempotency key, the Delivery's id:
    the same on every attempt, after a crash and on a re-send by hand, so a provider that accepted a message and
    whose answer never reached us sends it once (providers keep keys for a day or more). One keep-alive connection
    is kept; urllib3 retries nothing itself (the application does, with back-off: application.py)."""

    name = "sms"
    idempotent = False  # a second request is harmless only thanks to the provider's idempotency key

    def __init__(self, settings: NotificationSettings) -> None:
        for field, value in (("SMS_ACCOUNT", settings.sms_account), ("SMS_URL", settings.sms_url)):
            if not value.isascii() or unsafe_character(value) is not None:
                raise ValueError(f"{field} must be printable ASCII")
        try:  # a malformed address stops the dispatcher now, not each SMS later
            url = parse_url(settings.sms_url)
        except LocationParseError:
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            raise ValueError("SMS_URL must be an http(s) address")
        if settings.env == "production" and (url.scheme != "https" or not settings.sms_secret):
            # The texts hold query codes and the requests phone numbers: never in clear, never unsigned.
            raise ValueError("in production SMS_URL must be https and SMS_SECRET set")
        self._settings = settings
        self._http = urllib3.PoolManager(num_pools=1, maxsize=1, retries=False,
                                         timeout=urllib3.Timeout(connect=settings.sms_timeout,
                                                                 read=settings.sms_timeout))

    def close(self) -> None:
        self._http.clear()

    def deliver(self, notice: OutgoingNotice) -> str:
        number = mobile_or_none(notice.recipient.get("phone") or "")
        if number is None:
            raise PermanentDeliveryFailure("没有大陆手机号码")
        text, shortened = sms_text(notice, self._settings)
        key = str(Delivery.create_id(notice.id, self.name))
        body, headers = sms_request(number, text, key, self._settings, str(int(time.time())))
        try:
            response = self._http.request("POST", self._settings.sms_url, body=body, headers=headers,
                                          redirect=False, preload_content=True)
        except urllib3.exceptions.NewConnectionError:  # (a subclass of its TimeoutError) refused, unreachable
            raise TransientDeliveryFailure("SMS provider unreachable", "无法连接短信服务商") from None
        except urllib3.exceptions.TimeoutError:
            raise TransientDeliveryFailure("SMS provider timed out", "服务器无应答") from None
        except urllib3.exceptions.HTTPError as error:  # refused, reset, dropped: nothing usable came back
            raise TransientDeliveryFailure(f"SMS provider unreachable ({type(error).__name__})",
                                           "无法连接短信服务商") from None
        sms_outcome(response.status)
        return f"{'已发送短信摘要至' if shortened else '已发送短信至'}{mask_mobile(number)}"
