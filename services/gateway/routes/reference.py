"""Reference data with Chinese labels (docs/api.md §"Reference data"): the codes that requests and filters take, so
that nobody has to read a YAML file to learn an organ's code. Public (the online form needs topics and places) and
rate-limited like every public endpoint; the same for every caller."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from services.gateway import worklists
from services.gateway.deps import GatewayDep, public_rate_limit
from shared.language.contracts import reference
from shared.language.contracts.lifecycle import STATUS_TEXT, Status
from shared.language.contracts.worklists import GROUP_OF, GROUP_TEXT, LIST_GROUP_TEXT

router = APIRouter(prefix="/api/v1/reference", tags=["reference data"], dependencies=[Depends(public_rate_limit)])


@router.get("/organs")
def organs(gw: GatewayDep) -> dict[str, Any]:
    """The county's organs (有权处理机关): the codes transfers, reviews and the work lists' `organ` filter take."""
    directory = worklists.organs(gw.settings.routing_rules_file)
    return {"county": directory.county.as_dict(),
            "items": [directory.get(code).as_dict() for code in directory.codes]}  # type: ignore[union-attr]


@router.get("/topics")
def topics() -> dict[str, Any]:
    """问题分类: the `topic` of a petition and of the work lists' filter."""
    return {"items": reference.topics()}


@router.get("/categories")
def categories() -> dict[str, Any]:
    """信访类别: a petition's `category`."""
    return {"items": reference.categories()}


@router.get("/channels")
def channels() -> dict[str, Any]:
    """信访渠道: a petition's `channel`."""
    return {"items": reference.channels()}


@router.get("/decline-reasons")
def decline_reasons() -> dict[str, Any]:
    """不予受理 (the `decline` step, `again: false`) and 不再受理 (`decline-again`, `again: true`) reasons, with the
    statute each rests on: the `reason_code` those steps take."""
    return {"items": reference.decline_reasons()}


@router.get("/diversions")
def diversions() -> dict[str, Any]:
    """The statutory procedures of Art. 31(1)-(5) a request may be diverted into: the `item` of the `diversion`
    step."""
    return {"items": reference.diversions()}


@router.get("/places")
def places() -> dict[str, Any]:
    """The county's towns (9-digit codes) and their villages or communities (12 digits): a petition's
    `place_code`, the work lists' `town` filter."""
    directory = worklists.places()
    return {"county": {"code": directory.county.code, "name": directory.county.name},
            "items": [town.as_dict() for town in directory.towns]}


@router.get("/statuses")
def statuses() -> dict[str, Any]:
    """A case's statuses with their Chinese text and status group, and the groups the work lists filter by."""
    return {"items": [{"code": s.value, "text": STATUS_TEXT[s], "group": GROUP_OF[s].value,
                       "group_text": GROUP_TEXT[GROUP_OF[s]]} for s in Status],
            "groups": [{"code": g.value, "text": text} for g, text in LIST_GROUP_TEXT.items()]}
