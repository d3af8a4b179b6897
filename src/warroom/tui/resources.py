"""The resources pane: a tree grouped by service, each resource with its health and sparkline."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from warroom.incident.records import Resource
from warroom.incident.store import IncidentStore, short_group
from warroom.tui.lines import plain
from warroom.tui.messages import ResourceChosen
from warroom.tui.sparkline import spark

SERVICES: dict[str, tuple[str, str]] = {
    # service -> (icon, label); single-cell icons so columns line up in any terminal
    "lambda": ("λ", "Lambda"), "apigateway": ("⇄", "API Gateway"), "dynamodb": ("⛁", "DynamoDB"),
    "codebuild": ("⚙", "CodeBuild"), "cloudformation": ("☁", "CloudFormation"),
    "sns": ("✉", "SNS"), "secretsmanager": ("⚿", "Secrets"), "ssm": ("≡", "Parameters"),
    "kms": ("⚷", "KMS"), "s3": ("▤", "S3"), "cloudwatch": ("⚑", "Alarms"), "logs": ("≣", "Log groups"),
}
SPARK_MINUTES = 8


@dataclass(frozen=True)
class Entry:
    """What a tree node stands for."""

    kind: str                   # "all", "service" or "resource"
    service: str = ""
    name: str = ""
    groups: frozenset[str] = frozenset()


def service_of_group(group: str) -> str:
    if group.startswith("/aws/lambda/"):
        return "lambda"
    if group.startswith("/aws/codebuild/"):
        return "codebuild"
    if group.startswith(("/aws/apigateway/", "API-Gateway-Execution-Logs")):
        return "apigateway"
    if group.startswith("/aws/cloudformation") or group.startswith("cloudformation:"):
        return "cloudformation"
    return "logs"


class ResourceTree(Tree[Entry]):
    """Resources by service; enter on a node filters the logs to it."""

    COMPONENT_CLASSES = Tree.COMPONENT_CLASSES | {
        "resources--bad", "resources--ok", "resources--spark", "resources--count"}
    BINDINGS = [
        Binding("enter", "select_cursor", "Filter logs"),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("j", "cursor_down", "Down", show=False),
    ]

    def __init__(self, store: IncidentStore, *, id: str | None = None) -> None:
        super().__init__(Text("All resources"), Entry("all"), id=id)
        self.store = store
        self.show_root = True
        self.guide_depth = 2
        self._services: dict[str, TreeNode[Entry]] = {}
        self._leaves: dict[tuple[str, str, str], TreeNode[Entry]] = {}   # (service, name, region)

    def on_mount(self) -> None:
        self.root.expand()
        self.refresh_health()

    def _entries(self) -> list[tuple[str, str, str, frozenset[str], str]]:
        """(service, name, kind, groups, region) for every known resource and every group with logs."""
        out: list[tuple[str, str, str, frozenset[str], str]] = []
        covered: set[str] = set()
        owned: dict[int, set[str]] = {}  # an API's access-log group is the API's, as in findings
        for group, owner in self.store.group_resource.items():
            owned.setdefault(id(owner), set()).add(group)
        for r in self.store.resources:
            owner = self.store.group_resource.get(r.log_group or r.name)
            if r.kind == "log_group" and owner is not None and owner is not r:
                continue  # shown under the function, API or project it belongs to
            groups = frozenset(owned.get(id(r), set()) | (
                {r.log_group} if r.log_group else {r.name} if r.kind in ("stack", "project") else set()))
            covered |= groups
            service = r.service or ("cloudwatch" if r.kind == "alarm" else "logs")
            out.append((service, r.name, r.kind, groups, r.region))
        for group in list(self.store.lines):
            if group and group not in covered:
                out.append((service_of_group(group), short_group(group), "log_group",
                            frozenset([group]), ""))
        return out

    def refresh_health(self) -> None:
        """Add new resources and update every label; called about once a second."""
        styles = {n: self.get_component_rich_style(f"resources--{n}", partial=True)
                  for n in ("bad", "ok", "spark", "count")}
        findings: dict[str, int] = {}
        for f in self.store.findings.values():
            findings[f.resource] = findings.get(f.resource, 0) + f.count
        per_service: dict[str, tuple[int, int]] = {}
        entries = self._entries()
        # With several regions, each resource says which it is in (the same name may be in both).
        several = len({region for *_, region in entries if region}) > 1
        for key in self._leaves.keys() - {(e[0], e[1], e[4]) for e in entries}:
            self._leaves.pop(key).remove()  # out of scope now, or gone
        for service, name, kind, groups, region in entries:
            node = self._leaves.get((service, name, region))
            if node is None:
                parent = self._service_node(service)
                node = parent.add_leaf(Text(plain(name)), Entry("resource", service, name, groups))
                self._leaves[(service, name, region)] = node
            symptoms = sum(self.store.symptoms.get(g, 0) for g in groups)
            problems = findings.get(name, 0) + self._alarm_state(name, kind)
            series = [0] * SPARK_MINUTES
            for g in groups:
                for i, v in enumerate(self.store.errors_per_minute(g, SPARK_MINUTES)):
                    series[i] += v
            shown = self._label(name, problems, symptoms, series, styles)
            if several and region:
                shown.append(f" {region}", "dim")
            node.set_label(shown)
            bad, total = per_service.get(service, (0, 0))
            per_service[service] = (bad + (1 if problems or symptoms else 0), total + 1)
        for service, node in list(self._services.items()):
            if service not in per_service:
                self._services.pop(service).remove()
                continue
            bad, total = per_service.get(service, (0, 0))
            icon, label = SERVICES.get(service, ("•", service))
            text = Text(f"{icon} {label}", end="")
            if bad:
                text.append(f" ({bad}/{total})", styles["bad"])
            node.set_label(text)

    def _alarm_state(self, name: str, kind: str) -> int:
        return 1 if kind == "alarm" and self.store.alarms.get(name) == "ALARM" else 0

    def _service_node(self, service: str) -> TreeNode[Entry]:
        node = self._services.get(service)
        if node is None:
            icon, label = SERVICES.get(service, ("•", service))
            node = self.root.add(Text(f"{icon} {label}"), Entry("service", service), expand=True)
            self._services[service] = node
        return node

    def _label(self, name: str, problems: int, symptoms: int, series: list[int],
               styles: dict[str, Style]) -> Text:
        text = Text(end="")
        if problems or symptoms:
            text.append("● ", styles["bad"])
        else:
            text.append("○ ", styles["ok"])
        text.append(plain(name))
        if symptoms:
            text.append(f" {symptoms}", styles["count"])
        if any(series):
            text.append(" " + spark(series), styles["spark"])
        return text

    def on_tree_node_selected(self, event: Tree.NodeSelected[Entry]) -> None:
        event.stop()
        entry = event.node.data
        if entry is None or entry.kind == "all":
            self.post_message(ResourceChosen("all", None))
        elif entry.kind == "service":
            groups = frozenset(g for n in event.node.children if n.data for g in n.data.groups)
            label = SERVICES.get(entry.service, ("", entry.service))[1]
            self.post_message(ResourceChosen(label, groups or None))
        elif entry.groups:
            self.post_message(ResourceChosen(entry.name, entry.groups))
        else:
            # No log group of its own (a table, a secret): show the lines that name it.
            self.post_message(ResourceChosen(entry.name, None, text=entry.name))

    def select_resource(self, name: str) -> bool:
        """Move the cursor to a resource by name and filter to it; False if unknown."""
        for (_, node_name, _), node in self._leaves.items():
            if node_name == name:
                self.select_node(node)
                self.move_cursor(node)
                return True
        return False

    def names(self) -> list[str]:
        return list(dict.fromkeys(name for (_, name, _) in self._leaves))

    @staticmethod
    def resource_service(resource: Resource) -> str:
        return resource.service
