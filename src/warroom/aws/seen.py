"""A bounded memory of event ids already delivered, bucketed by event timestamp.

An id is only ever looked up in the bucket of its own event's second, and whole
buckets are dropped once no query can return their events any more (their timestamps
fall below every future query's start time), so memory holds a sliding window of
timestamps, however long a tail runs.
"""

from __future__ import annotations

BUCKET_MS = 1000


class SeenIds:
    """Event ids by timestamp second; `floor` is the lowest timestamp still remembered."""

    def __init__(self, floor: int = 0) -> None:
        self.floor = floor
        self._buckets: dict[int, set[str]] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, timestamp: int, event_id: str) -> bool:
        """Remember an id; True if it was new."""
        key = timestamp // BUCKET_MS
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = set()
        elif event_id in bucket:
            return False
        bucket.add(event_id)
        self._count += 1
        return True

    def __contains__(self, item: tuple[int, str]) -> bool:
        timestamp, event_id = item
        bucket = self._buckets.get(timestamp // BUCKET_MS)
        return bucket is not None and event_id in bucket

    def evict_below(self, timestamp: int) -> None:
        """Forget ids of events older than `timestamp` (rounded down to a whole bucket)."""
        key_floor = timestamp // BUCKET_MS
        if key_floor * BUCKET_MS <= self.floor:
            return
        self.floor = key_floor * BUCKET_MS
        for key in [k for k in self._buckets if k < key_floor]:
            self._count -= len(self._buckets.pop(key))
