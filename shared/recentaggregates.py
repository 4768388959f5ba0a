"""Aggregates this process saved recently, so that the next event about one of them (a case's routing, its
receipt's delivery: tens of milliseconds later) need not read and replay its history from the store.

An entry is *taken out* while it is used and put back only after a save succeeded, so an aggregate that a failed
decision or a refused save left half-changed is never seen again. A cached aggregate may still be stale when
another instance of the service moved it on meanwhile; a decision that writes events is then refused by the
store's version check and retaken on fresh state. Callers must not trust a cached aggregate for a decision that
writes nothing, unless it rests on a fact no later event undoes (see SupervisionApplication._on_case). Under eventlet, dict operations are not interrupted.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Generic, TypeVar
from uuid import UUID

A = TypeVar("A")


class RecentAggregates(Generic[A]):
    def __init__(self, size: int = 5_000) -> None:
        self._size = size
        self._aggregates: OrderedDict[UUID, A] = OrderedDict()

    def take(self, aggregate_id: UUID) -> A | None:
        """The cached aggregate, removed from the cache until `put` back."""
        return self._aggregates.pop(aggregate_id, None)

    def put(self, aggregate: Any) -> None:
        """Keep an aggregate whose state is all saved (no pending events), as the most recent."""
        if self._size <= 0 or aggregate.pending_events:  # unsaved changes are not the stored state
            return
        self._aggregates[aggregate.id] = aggregate
        self._aggregates.move_to_end(aggregate.id)
        while len(self._aggregates) > self._size:
            self._aggregates.popitem(last=False)

    def forget(self, aggregate_id: UUID) -> None:
        self._aggregates.pop(aggregate_id, None)

    def __len__(self) -> int:
        return len(self._aggregates)
