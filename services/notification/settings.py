"""notification's settings (environment variables; see docs/configuration.md)."""

from __future__ import annotations

from pydantic import Field

from shared.runtime.settings import PlatformSettings


class NotificationSettings(PlatformSettings):
    smtp_host: str = Field("", alias="SMTP_HOST")  # empty: e-mail is not sent (notices wait, visibly, in the lag)
    smtp_port: int = Field(25, alias="SMTP_PORT")
    smtp_username: str = Field("", alias="SMTP_USERNAME")
    smtp_password: str = Field("", alias="SMTP_PASSWORD")
    smtp_starttls: bool = Field(False, alias="SMTP_STARTTLS")
    smtp_timeout: float = Field(10.0, alias="SMTP_TIMEOUT")
    sender: str = Field("示例县信访局 <xinfang@example.gov.cn>", alias="NOTICE_SENDER")
    bureau_name: str = Field("示例县信访局", alias="NOTICE_BUREAU_NAME")
    # The address of the petitioner's status page (查询办理进度), as the invitation to rate names it; empty: the
    # invitation names the page without its address.
    status_url: str = Field("", alias="NOTICE_STATUS_URL")
    # The console's address as organs reach it (e.g. https://xinfang.example.gov.cn): a notice to an organ links to
    # the case's page there; empty: it tells the organ to sign in to the platform.
    console_url: str = Field("", alias="NOTICE_CONSOLE_URL")
    # The bureau's supervisors (督查督办): each early warning is sent to their mailbox as an official notice (预警通知),
    # addressed by this name; empty mailbox: the notice is recorded, not sent (the warnings are listed in the console).
    supervisors_email: str = Field("", alias="NOTICE_SUPERVISORS_EMAIL")
    supervisors_name: str = Field("示例县信访局督查督办科", alias="NOTICE_SUPERVISORS_NAME")
    # SMS through an HTTP provider (services/notification/channels.py SmsChannel). Empty URL: SMS is not sent (the
    # notices wait, visibly, in the dispatcher's SMS lag).
    sms_url: str = Field("", alias="SMS_URL")
    sms_account: str = Field("", alias="SMS_ACCOUNT")
    sms_secret: str = Field("", alias="SMS_SECRET")  # signs each request (HMAC-SHA256)
    sms_timeout: float = Field(10.0, alias="SMS_TIMEOUT")
    sms_max_chars: int = Field(300, alias="SMS_MAX_CHARS")  # longer: the title and the status page only
    sms_signature_name: str = Field("【示例县信访局】", alias="SMS_SIGNATURE_NAME")  # 短信签名, as registered
    # Retries of a non-idempotent channel (e-mail, SMS): attempts in all, with exponential back-off and full jitter
    # from the base to the cap; then the delivery is recorded as failed (re-sendable by hand).
    delivery_attempts: int = Field(6, alias="DELIVERY_ATTEMPTS", ge=1)
    delivery_backoff_seconds: float = Field(2.0, alias="DELIVERY_BACKOFF_SECONDS", ge=0)
    delivery_backoff_cap_seconds: float = Field(120.0, alias="DELIVERY_BACKOFF_CAP_SECONDS", ge=0)
