"""Who caused an event: recorded on every event (role, and the user and organ when an officer acted)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

Role = Literal["petitioner", "clerk", "organ_officer", "supervisor", "auditor", "admin", "system", "province"]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# Correlation ids travel in AMQP properties (at most 255 bytes) and logs: a short, plain token only.
PLAIN_TOKEN = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # correlation ids and idempotency keys: safe in headers and logs
CorrelationId = Annotated[str, StringConstraints(pattern=f"^{PLAIN_TOKEN.pattern}$")]


class Actor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    user: Name | None = None
    organ: Name | None = None


PETITIONER = Actor(role="petitioner")
