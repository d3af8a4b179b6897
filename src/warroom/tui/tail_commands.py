"""What the console asks of its log tails, kept for the tails that start later.

One mailbox per running tail (`Feed.mailbox`). `Narrow` (a filter pattern applied at the
source) and `Prioritise` (the groups that get Live Tail sessions first) are states: each
tail that starts (`:region`, `:scope`, a restart) is told the ones in force. `Lookup`s
are requests, answered by the tails through the inbox (`Found`, with the token given here).
No Textual here.
"""

from __future__ import annotations

from collections.abc import Iterable

from warroom.incident import source_events as ev
from warroom.tui.source_thread import Feed


class TailCommands:
    """The console's side of its log tails' mailboxes."""

    def __init__(self) -> None:
        self._mailboxes: dict[str, ev.Mailbox] = {}
        self.narrow = ev.Narrow(None)
        self.prioritise = ev.Prioritise(())
        self._token = 0

    def started(self, key: str, feed: Feed) -> None:
        """A source started under `key`: a log tail's mailbox is told what is in force."""
        if feed.mailbox is None:
            return
        self._mailboxes[key] = feed.mailbox
        if self.narrow.pattern:
            feed.mailbox.put(self.narrow)
        if self.prioritise.groups:
            feed.mailbox.put(self.prioritise)

    def stopped(self, key: str) -> None:
        self._mailboxes.pop(key, None)

    def __len__(self) -> int:
        return len(self._mailboxes)

    def narrow_to(self, pattern: str | None) -> int:
        """Read only events matching `pattern` at the source (None: all); how many tails were told."""
        self.narrow = ev.Narrow(pattern or None)
        return self._send(self.narrow)

    def prioritise_groups(self, groups: Iterable[str]) -> None:
        """These groups first when Live Tail sessions are handed out; told only when it changes."""
        wanted = tuple(sorted(set(groups)))
        if wanted != self.prioritise.groups:
            self.prioritise = ev.Prioritise(wanted)
            self._send(self.prioritise)

    def lookup(self, term: str, start_ms: int, end_ms: int,
               groups: Iterable[str] = ()) -> tuple[int, int] | None:
        """Ask every tail for the events holding `term` (in `groups`, else in all it follows):
        (token, tails asked), None without tails."""
        if not self._mailboxes:
            return None
        self._token += 1
        return self._token, self._send(ev.Lookup(self._token, term, start_ms, end_ms, tuple(sorted(set(groups)))))

    def _send(self, command: ev.Command) -> int:
        for mailbox in self._mailboxes.values():
            mailbox.put(command)
        return len(self._mailboxes)
