"""The `:` command line: jump to a resource or a playbook, or run a command, k9s style.

What is typed is matched fuzzily (as the palette does) against resources, playbooks and
commands; the best candidates show above the line, tab completes to the highlighted one
and enter runs it, so `:agent` goes to `bos-dev-agent-persona`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from warroom.aws.scope import Scope, parse_tag
from warroom.errors import UserError
from warroom.tui.lines import plain
from warroom.tui.palette import highlight

VERBS = ("resource", "playbook", "filter", "follow", "help", "quit", "fix", "changes", "scope", "region",
         "profile", "pattern")
# Commands offered as candidates; those with an argument complete to "VERB " first.
COMMANDS = (("follow", "follow the newest lines"), ("help", "every key"), ("quit", "quit warroom"),
            ("changes", "what changed before the symptoms"), ("fix ", "open the fix wizard: fix PLAYBOOK"),
            ("filter ", "filter the logs: filter TEXT"),
            ("pattern ", "read only matching events at the source: pattern CLOUDWATCH-PATTERN | off "
                         "(bare: the / filter's text)"),
            ("scope ", "show or change the scope: scope stack NAME | tag KEY=VALUE | prefix P | all"),
            ("region ", "read other regions: region us-east-1,eu-west-1"),
            ("profile ", "switch the AWS profile: profile NAME"))
ARGUMENT = {"fix": "playbook", "playbook": "playbook", "pb": "playbook", "resource": "resource",
            "res": "resource"}
FREE = frozenset({"filter", "f", "follow", "help", "h", "quit", "q", "q!", "changes", "scope", "region",
                  "profile", "pattern"})  # run as typed
SHOWN = 8


@dataclass(frozen=True, slots=True)
class Candidate:
    """One thing `:` can go to: what it runs, how it reads, and what kind it is."""

    command: str     # what enter runs: `resource NAME`, `playbook ID`, `fix ID`, `help`
    label: str       # what is matched and shown
    kind: str        # resource, playbook or command
    help: str = ""


class CommandScreen(ModalScreen[str | None]):
    """A one-line prompt at the bottom with fuzzy candidates; returns the command or None on esc."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"),
                Binding("tab", "complete", "Complete", priority=True),
                Binding("up", "move(-1)", "Up", show=False, priority=True),
                Binding("down", "move(1)", "Down", show=False, priority=True)]

    def __init__(self, resources: list[str], playbooks: list[tuple[str, str]]) -> None:
        super().__init__()
        self.resources = [Candidate(f"resource {r}", r, "resource") for r in resources]
        self.playbooks = [Candidate(f"playbook {pid}", pid, "playbook", title) for pid, title in playbooks]
        self.commands = [Candidate(c.strip(), c, "command", what) for c, what in COMMANDS]
        self.shown: list[Candidate] = []

    def compose(self) -> ComposeResult:
        yield OptionList(id="command-hits", markup=False)
        yield Input(placeholder="a resource, playbook or command (fuzzy; tab completes)",
                    id="command-input")

    def on_mount(self) -> None:
        box = self.query_one(Input)
        box.border_title = ":"
        self.query_one(OptionList).can_focus = False  # the keys stay in the line; up/down move here
        box.focus()
        self._update("")

    def candidates(self, text: str) -> tuple[str, list[Candidate]]:
        """What is matched (the argument after `fix `, `pb `, `res `...) and the best hits for it."""
        verb, space, rest = text.partition(" ")
        kind = ARGUMENT.get(verb.lower()) if space else None
        if kind is not None:
            prefix = "fix " if verb.lower() == "fix" else f"{kind} "
            pool = [Candidate(prefix + c.label, prefix + c.label, c.kind, c.help)
                    for c in (self.playbooks if kind == "playbook" else self.resources)]
            query = rest.strip()
        else:
            prefix, pool, query = "", self.resources + self.playbooks + self.commands, text.strip()
        if not query:
            return query, (pool if kind else self.commands)[:SHOWN]
        matcher = Matcher(query)
        scored = sorted(((matcher.match(c.label[len(prefix):]), c) for c in pool),
                        key=lambda sc: (-sc[0], sc[1].label))
        return query, [c for score, c in scored if score > 0][:SHOWN]

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._update(event.value)

    def _update(self, text: str) -> None:
        query, self.shown = self.candidates(text)
        hits = self.query_one(OptionList)
        hits.clear_options()
        matcher = Matcher(query)
        hits.add_options([Option(self._prompt(matcher, c)) for c in self.shown])
        hits.display = bool(self.shown)
        if self.shown:
            hits.highlighted = 0

    def _prompt(self, matcher: Matcher, c: Candidate) -> Content:
        label = highlight(matcher, c.label) if matcher.query else Content(plain(c.label))
        tail = f"  {c.kind}" + (f" · {plain(c.help)}" if c.help else "")
        room = max(0, self.size.width - 4 - len(label.plain))  # one row each: cut the help
        return label + Content(tail if len(tail) <= room else tail[: max(0, room - 1)] + "…").stylize("dim")

    def _current(self) -> Candidate | None:
        index = self.query_one(OptionList).highlighted
        return self.shown[index] if index is not None and index < len(self.shown) else None

    def action_complete(self) -> None:
        """tab: the line becomes the highlighted candidate."""
        c = self._current()
        if c is not None:
            box = self.query_one(Input)
            box.value = c.label
            box.cursor_position = len(box.value)

    def action_move(self, step: int) -> None:
        hits = self.query_one(OptionList)
        if self.shown:
            hits.highlighted = ((hits.highlighted or 0) + step) % len(self.shown)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        """enter: what was typed when it says exactly what to do, else the highlighted candidate."""
        event.stop()
        text = event.value.strip()
        verb, _, rest = text.partition(" ")
        names = {c.label for c in self.resources + self.playbooks}
        exact = text in names or verb.lower() in FREE or (
            verb.lower() in ARGUMENT and rest.partition(" ")[0] in names)
        current = self._current()
        self.dismiss(current.command if current is not None and not exact else text or None)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.shown[event.option_index].command)

    def action_cancel(self) -> None:
        self.dismiss(None)


def parse(command: str) -> tuple[str, str]:
    """`pb lambda-timeout` -> ("playbook", "lambda-timeout"); a bare word -> ("", word)."""
    verb, _, rest = command.strip().partition(" ")
    aliases = {"res": "resource", "r": "resource", "pb": "playbook", "p": "playbook",
               "f": "filter", "q": "quit", "q!": "quit", "quit": "quit", "h": "help"}
    full = aliases.get(verb.lower(), verb.lower())
    if full in VERBS:
        return full, rest.strip()
    return "", command.strip()


SCOPE_KINDS = {"stack": "stacks", "tag": "tags", "prefix": "prefixes"}
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")


def parse_scope(text: str) -> Scope | None:
    """`stack payments tag app=x prefix bos-` -> that Scope (commas optional); `all` -> the
    empty scope (everything); '' -> None (show the current one). UserError names the problem."""
    words = text.replace(",", " ").split()
    if not words:
        return None
    if words == ["all"]:
        return Scope()
    if len(words) % 2:
        raise UserError(f"scope: '{words[-1]}' needs a value: stack NAME, tag KEY=VALUE or prefix P")
    given: dict[str, list[str]] = {kind: [] for kind in SCOPE_KINDS.values()}
    for kind, value in zip(words[::2], words[1::2], strict=True):
        if kind.lower() not in SCOPE_KINDS:
            raise UserError(f"scope: '{kind}' is not stack, tag or prefix")
        given[SCOPE_KINDS[kind.lower()]].append(value)
    return Scope(prefixes=tuple(given["prefixes"]), stacks=tuple(given["stacks"]),
                 tags=tuple(parse_tag(t) for t in given["tags"]))


def parse_regions(text: str) -> tuple[str, ...]:
    """`us-east-1,eu-west-1` (or spaces) -> the regions, each checked for a region's shape."""
    regions = tuple(dict.fromkeys(text.replace(",", " ").split()))
    if not regions:
        raise UserError("region: give one or more, e.g. region us-east-1,eu-west-1")
    for region in regions:
        if not REGION.fullmatch(region):
            raise UserError(f"region: '{region}' is not a region name like us-east-1")
    return regions
