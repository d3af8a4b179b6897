"""A fixed-capacity buffer of records addressed by absolute sequence numbers."""

from __future__ import annotations

from collections.abc import Iterator

from warroom.incident.records import Record


class Ring:
    """A fixed-capacity buffer addressed by absolute sequence numbers; the oldest go first."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._items: list[Record | None] = [None] * capacity
        self.first = 0   # sequence number of the oldest record still held
        self.next = 0    # sequence number the next record gets
        self.dropped = 0  # records pushed out by newer ones

    def __len__(self) -> int:
        return self.next - self.first

    def append(self, record: Record) -> int:
        seq = self.next
        self._items[seq % self.capacity] = record
        self.next += 1
        if self.next - self.first > self.capacity:
            self.first += 1
            self.dropped += 1
        return seq

    def __getitem__(self, seq: int) -> Record:
        if not self.first <= seq < self.next:
            raise IndexError(seq)
        item = self._items[seq % self.capacity]
        assert item is not None
        return item

    def get(self, seq: int) -> Record | None:
        return self[seq] if self.first <= seq < self.next else None

    def pop_newest(self, count: int) -> list[Record]:
        """Take the newest `count` records out (oldest of them first); their numbers are reused."""
        count = min(count, len(self))
        out = [self[seq] for seq in range(self.next - count, self.next)]
        for seq in range(self.next - count, self.next):
            self._items[seq % self.capacity] = None
        self.next -= count
        return out

    def seqs(self, start: int | None = None) -> range:
        return range(max(self.first, start if start is not None else self.first), self.next)

    def __iter__(self) -> Iterator[Record]:
        for seq in self.seqs():
            yield self[seq]
