"""Aggregates this process saved recently, so that the next event about one of them (a case's routing, its
receipt's delivery: tens of milliseconds later) need not read and replay its history from the store.

An entry is *taken out* while it is used and put back only after a save succeeded, so an aggregate that a failed
decision or a refused save left half-changed is never seen again. A cached aggregate may still be stale when
another instance of the service moved it on meanwhile; a decision that writes events is then refused by the
store's version check and retaken on fresh state. Callers must not trust a cached aggregate for a decision that
writes nothing, unless it rests on a fact no later event undoes (see SupervisionApplication._on_case). Under
eventlet, dict operations are not interrupted.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any, Generic, TypeVar
from uuid import UUID

A = TypeVar("A")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RecentItems(Generic[K, V]):
    """The `size` items put last, by key; an item is taken out while it is used (a bounded, least-recently-put
    cache). The case-view projector keeps the views it wrote in one."""

    def __init__(self, size: int = 5_000) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def take(self, key: K) -> V | None:
        """The cached item, removed from the cache until put back."""
        return self._items.pop(key, None)

    def put(self, key: K, item: V) -> None:
        if self._size <= 0:
            return
        self._items[key] = item
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def forget(self, key: K) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)


class RecentAggregates(RecentItems[UUID, A]):
    def put(self, aggregate: Any) -> None:  # type: ignore[override]
        """Keep an aggregate whose state is all saved (no pending events), as the most recent."""
        if not aggregate.pending_events:  # unsaved changes are not the stored state
            super().put(aggregate.id, aggregate)
