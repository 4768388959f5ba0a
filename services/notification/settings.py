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
