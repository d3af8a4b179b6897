"""Messages the console's panes send each other through the screen."""

from __future__ import annotations

from textual.message import Message


class ResourceChosen(Message):
    """Filter the logs to these groups (None: all), or to lines naming `text`."""

    def __init__(self, label: str, groups: frozenset[str] | None, text: str = "") -> None:
        super().__init__()
        self.label = label
        self.groups = groups
        self.text = text


class PlaybookChosen(Message):
    """Show a playbook in the guidance pane, for a resource with captured parameters."""

    def __init__(self, playbook: str, resource: str, captures: dict[str, str],
                 evidence: str = "", rerun: bool = False, resource_kind: str = "",
                 open_fix: bool = False) -> None:
        super().__init__()
        self.open_fix = open_fix  # then open the fix wizard on it, the guidance beside it
        self.rerun = rerun
        self.resource_kind = resource_kind
        self.playbook = playbook
        self.resource = resource
        self.captures = captures
        self.evidence = evidence


class FixRequested(Message):
    """The user asked to start the fix wizard for the playbook in the guidance pane."""

    def __init__(self, playbook: str, resource: str, params: dict[str, str],
                 resource_kind: str = "") -> None:
        super().__init__()
        self.resource_kind = resource_kind
        self.playbook = playbook
        self.resource = resource
        self.params = params
