"""A bounded memory of the events already delivered, bucketed by event timestamp.

An event is known by what both of CloudWatch's read paths give: FilterLogEvents has event
ids, Live Tail has none, so the identity is (stream, timestamp, ingestion time, message)
within a group. Identical events (same message in the same millisecond, written in one
PutLogEvents) share that identity, so each read counts the occurrences it has seen
(`Occurrences`) and the n-th occurrence is new only if no read delivered n of them yet.

An identity is only ever looked up in the bucket of its own event's second, and whole
buckets are dropped once no query can return their events any more (their timestamps
fall below every future query's start time), so memory holds a sliding window of
timestamps, however long a tail runs.
"""

from __future__ import annotations

from collections.abc import Hashable

BUCKET_MS = 1000

EventKey = tuple[str, int, "int | None", str]


def event_key(stream: str, timestamp: int, ingestion_time: int | None, message: str) -> EventKey:
    """The identity of a log event within its group, the same from either read path."""
    return (stream, timestamp, ingestion_time, message)


class Occurrences:
    """How many times one read (a query across its pages, or a Live Tail session) met each identity."""

    def __init__(self) -> None:
        self._counts: dict[Hashable, int] = {}

    def next(self, key: Hashable) -> int:
        """1 for the first time `key` is met, 2 for the second, ..."""
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        return count

    def clear(self) -> None:
        self._counts.clear()


class SeenIds:
    """Identities by timestamp second, with how many of each were delivered; `floor` is the
    lowest timestamp still remembered."""

    def __init__(self, floor: int = 0) -> None:
        self.floor = floor
        self._buckets: dict[int, dict[Hashable, int]] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, timestamp: int, key: Hashable, occurrence: int = 1) -> bool:
        """Remember the `occurrence`-th event of identity `key`; True if it was new."""
        second = timestamp // BUCKET_MS
        bucket = self._buckets.get(second)
        if bucket is None:
            bucket = self._buckets[second] = {}
        known = bucket.get(key, 0)
        if known >= occurrence:
            return False
        bucket[key] = occurrence
        if not known:
            self._count += 1
        return True

    def __contains__(self, item: tuple[int, Hashable]) -> bool:
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

    def density(self, timestamp: int, seconds: int = 3) -> float:
        """Ids remembered per second of event time over the `seconds` whole seconds before
        `timestamp`'s own (an estimate of how many events a window of a second holds)."""
        key = timestamp // BUCKET_MS
        buckets = self._buckets
        total = 0
        for k in range(key - seconds, key):
            bucket = buckets.get(k)
            if bucket is not None:
                total += len(bucket)
        return total / seconds

    def slices(self, start: int, end: int, target: int) -> list[tuple[int, int]]:
        """Split [start, end] (ms, both inclusive) into consecutive windows that each hold
        about `target` remembered ids at most (ids taken as spread evenly over their
        second). Together the windows cover [start, end] exactly, in order."""
        if end < start:
            return []
        target = max(1, target)
        out: list[tuple[int, int]] = []
        lo = start
        acc = 0.0
        for key in range(start // BUCKET_MS, end // BUCKET_MS + 1):
            pos = max(start, key * BUCKET_MS)
            sec_hi = min(end, key * BUCKET_MS + BUCKET_MS - 1)
            bucket = self._buckets.get(key)
            per_ms = len(bucket) / BUCKET_MS if bucket else 0.0
            while per_ms and acc + per_ms * (sec_hi - pos + 1) > target:
                # This window fills up inside this second: close it where it does.
                cut = pos + max(1, int((target - acc) / per_ms))
                if cut > sec_hi:
                    break
                if cut > lo:
                    out.append((lo, cut - 1))
                lo, pos, acc = cut, cut, 0.0
            acc += per_ms * (sec_hi - pos + 1)
        out.append((lo, end))
        return out
