"""Who caused an event: recorded on every event (role, and the user and organ when an officer acted)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints


class Role(StrEnum):
    """Everyone who may cause an event; officers sign in with one of OFFICER_ROLES."""

    PETITIONER = "petitioner"  # 信访人: by query code (and the ID number's last six characters)
    CLERK = "clerk"  # 登记员: registers letters, visits and calls
    ORGAN_OFFICER = "organ_officer"  # 有权处理机关工作人员: sees only petitions routed to their organ
    SUPERVISOR = "supervisor"  # 督查督办
    AUDITOR = "auditor"  # 审计
    ADMIN = "admin"
    SYSTEM = "system"  # routing rules, the deadline sweep, the repeat check
    PROVINCE = "province"  # the provincial system, through its integration
    # An integrator's gateway account: it reads the integration feed and asks for replays, never acts (so it is on no
    # event, and not in the events' actor schema); refused by every other endpoint (services/gateway/deps.py).
    INTEGRATOR = "integrator"


# The roles of the gateway's accounts (people who sign in).
OFFICER_ROLES = (Role.CLERK, Role.ORGAN_OFFICER, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)
Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# Correlation ids travel in AMQP properties (at most 255 bytes) and logs: a short, plain token only.
PLAIN_TOKEN = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # correlation ids and idempotency keys: safe in headers and logs
CorrelationId = Annotated[str, StringConstraints(pattern=f"^{PLAIN_TOKEN.pattern}$")]


class Actor(BaseModel):
    # Roles kept as their plain values: actors are stored in events and published as JSON.
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)

    role: Role
    user: Name | None = None
    organ: Name | None = None


PETITIONER = Actor(role="petitioner")
# The platform's own actors, one per automatic decision-maker (recorded on the events they cause).
ROUTING_RULES = Actor(role=Role.SYSTEM, user="routing-rules")
REPEAT_CHECK = Actor(role=Role.SYSTEM, user="repeat-check")
DEADLINE_SWEEP = Actor(role=Role.SYSTEM, user="deadline-sweep")
# Reminds the holder of a duty before its day and records the breach after it (services/supervision/watch.py).
DEADLINE_WATCH = Actor(role=Role.SYSTEM, user="deadline-watch")
# Counts a window again from the petitioner's receipt of a written answer, as notification reported it.
NOTICE_RECEIPT = Actor(role=Role.SYSTEM, user="notice-receipt")
