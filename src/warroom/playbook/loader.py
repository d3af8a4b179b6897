"""YAML playbook files -> validated `Playbook`s, with every problem located."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from warroom.playbook import model as m
from warroom.playbook import types
from warroom.playbook.literals import required_literals
from warroom.playbook.linear import Regex, RegexError
from warroom.playbook.nodes import Mapping, Problem, Problems, compose, plain
from warroom.playbook.readable import plain_lines
from warroom.playbook.secret_calls import secret_material
from warroom.playbook.template import names_in, shell_problem

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CALL_RE = re.compile(r"^[a-z0-9-]+\.[a-z][a-z0-9_]*$")

# Checks an AWS call against the service model: (service, operation, params) -> problems
# as (field suffix, message). Supplied by the AWS layer so this package stays SDK-free.
CallChecker = Callable[[str, str, dict[str, Any]], list[tuple[str, str]]]

TOP_FIELDS = ("id", "title", "service", "severity", "sources", "params", "symptoms",
              "context", "cause", "diagnose", "fix", "prevention")
STEP_FIELDS = ("title", "description", "call", "params", "shell", "cwd", "manual", "commands",
               "inputs", "show", "capture", "verify", "destructive", "confirm_name")


def load_file(path: Path, check_call: CallChecker | None = None,
              display: str | None = None) -> tuple[m.Playbook | None, list[Problem]]:
    """Load one playbook; returns (playbook or None, problems)."""
    name = display or str(path)
    problems = Problems(name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(None, "", f"cannot read: {exc}")
        return None, problems.items
    return load_text(text, name, check_call, problems)


def load_text(text: str, name: str, check_call: CallChecker | None = None,
              problems: Problems | None = None) -> tuple[m.Playbook | None, list[Problem]]:
    problems = problems or Problems(name)
    root = compose(text, name, problems)
    if problems:
        return None, problems.items
    if root is None:
        problems.add(None, "", "empty file: a playbook needs at least id, title and symptoms")
        return None, problems.items
    top = Mapping.of(root, "", problems)
    if top is None:
        return None, problems.items
    playbook = _Builder(top, problems, name, check_call).build()
    return (None if problems else playbook), problems.items


class _Builder:
    def __init__(self, top: Mapping, problems: Problems, file: str,
                 check_call: CallChecker | None) -> None:
        self.top = top
        self.problems = problems
        self.file = file
        self.check_call = check_call
        # name -> line where it is defined, to check `{name}` references
        self.defined: set[str] = set()

    def where(self, node: yaml.Node, path: str) -> m.Where:
        return m.Where(self.file, node.start_mark.line + 1, path)

    def build(self) -> m.Playbook | None:
        t = self.top
        pid = t.get("id", str, required=True,
                    check=lambda v: None if ID_RE.match(v) else "must be lower-case words joined by '-'")
        title = t.get("title", str, required=True)
        service = t.get("service", str, required=True, check=_one_of(m.SERVICES))
        severity = t.get("severity", str, required=True, check=_one_of(m.SEVERITIES))
        sources = self.sources()
        params = self.params()
        symptoms = self.symptoms()
        context = self.context()
        cause = t.get("cause", str, required=True)
        prevention = t.get("prevention", str, required=True)
        diagnose = self.steps("diagnose", required=False, read_only=True)
        fix = self.steps("fix", required=True, read_only=False)
        t.done(TOP_FIELDS)
        if self.problems:
            return None
        return m.Playbook(
            id=pid, title=title, service=service, severity=severity, sources=sources,
            cause=cause.strip(), prevention=prevention.strip(), symptoms=symptoms,
            diagnose=diagnose, fix=fix, params=params, context=context, path=self.file,
        )

    # -- sections ---------------------------------------------------------------------

    def sources(self) -> tuple[m.Source, ...]:
        out = []
        for path, node in self.top.items("sources", required=True):
            src = Mapping.of(node, path, self.problems)
            if src is None:
                continue
            f = src.get("file", str, required=True)
            section = src.get("section", str, required=True)
            src.done(("file", "section"))
            if f and section:
                out.append(m.Source(f, section))
        return tuple(out)

    def params(self) -> tuple[m.Param, ...]:
        block = self.top.mapping("params")
        if block is None:
            return ()
        out = []
        for name in block.keys:
            node = block.node_of(name)
            path = block.sub(name)
            if not _identifier(name):
                self.problems.add(node, path, "parameter names are identifiers (letters, digits, _)")
                continue
            self.defined.add(name)
            if isinstance(node, yaml.ScalarNode):  # shorthand: `function: Lambda function name`
                out.append(m.Param(name, description=str(plain(node) or "")))
                continue
            spec = Mapping.of(node, path, self.problems)
            if spec is None:
                continue
            kind = spec.get("type", str, check=types.type_problem)
            pattern = spec.get("pattern", str, check=_pattern_problem)
            default = spec.get("default", (str, int, float, bool))
            self.check_default(spec, default, kind, pattern)
            out.append(m.Param(
                name,
                description=spec.get("description", str, default=""),
                default=default,
                resource=spec.get("resource", str, check=_one_of(m.RESOURCE_KINDS)),
                type=kind, pattern=pattern,
            ))
            spec.done(("description", "default", "resource", "type", "pattern"))
        return tuple(out)

    def symptoms(self) -> tuple[m.Symptom, ...]:
        out: list[m.Symptom] = []
        for path, node in self.top.items("symptoms", required=True):
            spec = Mapping.of(node, path, self.problems)
            if spec is None:
                continue
            kinds = [k for k in ("pattern", "metric", "probe") if spec.has(k)]
            if len(kinds) != 1:
                self.problems.add(node, path, "needs exactly one of pattern, metric or probe")
                continue
            symptom = {"pattern": self.text_symptom, "metric": self.metric_symptom,
                       "probe": self.probe_symptom}[kinds[0]](spec, path, node)
            if symptom is not None:
                out.append(symptom)
        return tuple(out)

    def text_symptom(self, spec: Mapping, path: str, node: yaml.Node) -> m.TextSymptom | None:
        pattern = spec.get("pattern", str, required=True)
        ignore_case = spec.get("ignore_case", bool, default=False)
        priority = spec.get("priority", int, default=50)
        log_groups = spec.strings("log_groups")
        examples = spec.strings("examples")
        unless_text = spec.get("unless", str)
        spec.done(("pattern", "ignore_case", "priority", "log_groups", "examples", "unless",
                   "compare"))
        if not pattern:
            return None
        pnode = spec.node_of("pattern")
        regex = self.linear(spec, "pattern", pattern, ignore_case)
        if regex is None:
            return None
        try:
            literals = required_literals(pattern, ignore_case)
        except re.error as exc:  # the prefilter reads patterns with Python's parser
            self.problems.add(pnode, spec.sub("pattern"),
                              f"RE2-only syntax, which the literal prefilter cannot read: {exc}")
            return None
        if literals is None:
            self.problems.add(pnode, spec.sub("pattern"),
                              "no literal text of 3+ characters that every match must contain; "
                              "the matcher would have to run it on every line")
            return None
        if regex.search("") is not None:
            self.problems.add(pnode, spec.sub("pattern"), "matches the empty string")
            return None
        unless = self.linear(spec, "unless", unless_text, ignore_case) if unless_text else None
        compare = self.compare(spec, regex)
        if (unless_text and unless is None) or (spec.has("compare") and compare is None):
            return None
        symptom = m.TextSymptom(pattern, regex, ignore_case, priority, log_groups, examples,
                                self.where(node, path), unless, compare)
        for i, example in enumerate(examples):
            # As the matcher reads it: as written, or as the plain text it carries.
            readings = [example, *plain_lines(example)]
            if all(symptom.search(text) is None for text in readings):
                self.problems.add(spec.node_of("examples"), f"{spec.sub('examples')}[{i}]",
                                  "example does not match the pattern"
                                  if not any(regex.search(text) for text in readings)
                                  else "example is vetoed by unless/compare")
        self.defined.update(regex.groupindex)
        regex.release()  # checked: compiled again when a line first reaches it
        if unless is not None:
            unless.release()
        return symptom

    def linear(self, spec: Mapping, key: str, pattern: str, ignore_case: bool = False) -> Regex | None:
        """`pattern` compiled for log text (RE2), or None with the problem reported."""
        try:
            return Regex(pattern, ignore_case)
        except RegexError as exc:
            self.problems.add(spec.node_of(key), spec.sub(key), str(exc))
            return None

    def compare(self, spec: Mapping, regex: Regex) -> m.Compare | None:
        """`compare: {left: CAPTURE, op: '==', right: CAPTURE}` between a pattern's named groups."""
        block = spec.mapping("compare")
        if block is None:
            return None
        left = block.get("left", str, required=True)
        op = block.get("op", str, required=True, check=_one_of(m.COMPARE_OPS))
        right = block.get("right", str, required=True)
        block.done(("left", "op", "right"))
        bad = [(side, name) for side, name in (("left", left), ("right", right))
               if name and name not in regex.groupindex]
        for side, name in bad:
            self.problems.add(block.node_of(side), block.sub(side),
                              f"'{name}' is not a named group (?P<{name}>...) of the pattern")
        return m.Compare(left, op, right) if left and op and right and not bad else None

    def metric_symptom(self, spec: Mapping, path: str, node: yaml.Node) -> m.MetricSymptom | None:
        metric = spec.mapping("metric", required=True)
        resource = spec.get("resource", str, check=_one_of(m.RESOURCE_KINDS))
        spec.done(("metric", "resource"))
        if metric is None:
            return None
        out = m.MetricSymptom(
            namespace=metric.get("namespace", str, required=True),
            metric=metric.get("name", str, required=True),
            stat=metric.get("stat", str, required=True, check=_stat),
            dimension=metric.get("dimension", str, required=True),
            comparison=metric.get("comparison", str, required=True, check=_one_of(m.COMPARISONS)),
            threshold=metric.get("threshold", float, required=True),
            period=metric.get("period", int, default=300, check=_positive),
            evaluation_periods=metric.get("evaluation_periods", int, default=1, check=_positive),
            resource=resource,
            where=self.where(node, path),
        )
        metric.done(("namespace", "name", "stat", "dimension", "comparison", "threshold",
                     "period", "evaluation_periods"))
        return out

    def probe_symptom(self, spec: Mapping, path: str, node: yaml.Node) -> m.ProbeSymptom | None:
        probe = spec.get("probe", str, required=True, check=_one_of(m.PROBE_KINDS))
        params_node = spec.node_of("params")
        params = plain(params_node) if params_node is not None else {}
        if not isinstance(params, dict):
            self.problems.add(params_node, spec.sub("params"), "must be a mapping")
            params = {}
        resource = spec.get("resource", str, check=_one_of(m.RESOURCE_KINDS))
        spec.done(("probe", "params", "resource"))
        return m.ProbeSymptom(probe, params, resource, self.where(node, path)) if probe else None

    def context(self) -> tuple[m.ContextRule, ...]:
        block = self.top.mapping("context")
        if block is None:
            return ()
        out = []
        for name in block.keys:
            path = block.sub(name)
            spec = Mapping.of(block.node_of(name), path, self.problems)
            if spec is None:
                continue
            source = spec.get("from", str, required=True, check=_one_of(m.CONTEXT_SOURCES))
            pattern = spec.get("pattern", str, required=True)
            spec.done(("from", "pattern"))
            if not (source and pattern):
                continue
            regex = self.linear(spec, "pattern", pattern)
            if regex is None:
                continue
            if name not in regex.groupindex:
                self.problems.add(spec.node_of("pattern"), spec.sub("pattern"),
                                  f"needs a named group (?P<{name}>...)")
                continue
            self.defined.add(name)
            out.append(m.ContextRule(name, source, regex))
        return tuple(out)

    def steps(self, key: str, *, required: bool, read_only: bool) -> tuple[m.Step, ...]:
        out = []
        for path, node in self.top.items(key, required=required):
            step = self.step(node, path, read_only)
            if step is not None:
                out.append(step)
        return tuple(out)

    def step(self, node: yaml.Node, path: str, read_only: bool) -> m.Step | None:
        spec = Mapping.of(node, path, self.problems)
        if spec is None:
            return None
        kinds = [k for k in ("call", "shell", "manual") if spec.has(k)]
        if len(kinds) != 1:
            self.problems.add(node, path, "needs exactly one of call, shell or manual")
            spec.done(STEP_FIELDS)
            return None
        kind = kinds[0]
        title = spec.get("title", str, required=True)
        description = spec.get("description", str, default="")
        call = spec.get("call", str, check=lambda v: None if CALL_RE.match(v) else
                        "must be service.operation in snake_case, e.g. lambda.get_function")
        params = self.plain_mapping(spec, "params")
        shell = spec.get("shell", str, check=shell_problem)
        cwd = spec.get("cwd", str)
        manual = spec.get("manual", str)
        commands = spec.strings("commands")
        inputs = self.inputs(spec)
        show = spec.strings("show")
        capture = self.plain_mapping(spec, "capture")
        verify = self.verify(spec)
        destructive = spec.get("destructive", bool, default=None)
        confirm_name = spec.get("confirm_name", str)
        spec.done(STEP_FIELDS)
        if kind != "call":
            for field_name, value in (("params", params), ("show", show), ("capture", capture)):
                if value:
                    self.problems.add(spec.node_of(field_name), spec.sub(field_name),
                                      f"only a call step takes {field_name}")
        if kind == "call" and call:
            service, operation = call.split(".", 1)
            if self.check_call is not None:
                for suffix, message in self.check_call(service, operation, params):
                    self.problems.add(spec.node_of("call" if not suffix else "params"),
                                      spec.sub("call" if not suffix else f"params.{suffix}"),
                                      message)
            if destructive is None:
                destructive = m.is_destructive_operation(operation)
            secret = secret_material(service, operation, params) if read_only else None
            if secret:
                self.problems.add(spec.node_of("call"), spec.sub("call"),
                                  f"diagnose steps may not read secrets: {secret}")
            elif read_only and not m.is_read_only_operation(operation):
                self.problems.add(spec.node_of("call"), spec.sub("call"),
                                  "diagnose steps must be read-only calls (Get/List/Describe/...)")
        if read_only and kind == "shell":
            self.problems.add(spec.node_of("shell"), spec.sub("shell"),
                              "diagnose steps cannot run shell commands; use a manual step")
        if verify is not None and kind != "call" and verify.call is None:
            self.problems.add(spec.node_of("verify"), spec.sub("verify"), "needs a call")
        destructive = bool(destructive)
        if destructive and not confirm_name:
            self.problems.add(node, spec.sub("confirm_name"),
                              "a destructive step needs confirm_name: the resource name the user types")
        for name, _ in capture.items():
            if not _identifier(name):
                self.problems.add(spec.node_of("capture"), spec.sub(f"capture.{name}"),
                                  "capture names are identifiers")
        self.defined.update(i.name for i in inputs)
        references: dict[str, Any] = {
            "title": title, "description": description, "params": params, "shell": shell,
            "cwd": cwd, "manual": manual, "commands": commands, "confirm_name": confirm_name}
        self.check_references(spec, references)
        self.defined.update(capture)  # the step's own response feeds its verify and later steps
        if verify is not None:
            self.check_references(spec, {"verify.params": verify.params, "verify.expect": verify.expect})
        if not title:
            return None
        return m.Step(
            title=title, kind=kind, description=description, call=call, params=params,
            shell=shell, cwd=cwd, manual=manual, commands=commands, inputs=inputs, show=show,
            capture=capture, verify=verify, destructive=destructive, confirm_name=confirm_name,
            where=self.where(node, path),
        )

    def plain_mapping(self, spec: Mapping, key: str) -> dict[str, Any]:
        node = spec.node_of(key)
        if node is None:
            return {}
        value = plain(node)
        if not isinstance(value, dict):
            self.problems.add(node, spec.sub(key), "must be a mapping")
            return {}
        return value

    def inputs(self, spec: Mapping) -> tuple[m.Input, ...]:
        block = spec.mapping("inputs")
        if block is None:
            return ()
        out = []
        for name in block.keys:
            path = block.sub(name)
            item = Mapping.of(block.node_of(name), path, self.problems)
            if item is None:
                continue
            if not _identifier(name):
                self.problems.add(item.node, path, "input names are identifiers")
            kind = item.get("type", str, default="str", check=_input_type_problem)
            choices = item.strings("choices")
            if kind == "choice" and not choices:
                self.problems.add(item.node, item.sub("choices"), "a choice input needs choices")
            pattern = item.get("pattern", str, check=_pattern_problem)
            default = item.get("default", (str, int, float, bool))
            self.check_default(item, default, kind if kind in types.TYPES else None, pattern)
            out.append(m.Input(
                name=name, prompt=item.get("prompt", str, required=True), type=kind,
                default=default,
                min=item.get("min", float), max=item.get("max", float), choices=choices,
                pattern=pattern,
            ))
            item.done(("prompt", "type", "default", "min", "max", "choices", "pattern"))
        return tuple(out)

    def verify(self, spec: Mapping) -> m.Verify | None:
        block = spec.mapping("verify")
        if block is None:
            return None
        call = block.get("call", str, required=True, check=lambda v: None if CALL_RE.match(v)
                         else "must be service.operation in snake_case")
        params = self.plain_mapping(block, "params")
        expect = self.plain_mapping(block, "expect")
        if not expect:
            self.problems.add(block.node, block.sub("expect"), "required field is missing")
        timeout = block.get("timeout", float, default=60.0, check=_positive)
        block.done(("call", "params", "expect", "timeout"))
        if call:
            service, operation = call.split(".", 1)
            secret = secret_material(service, operation, params)
            if secret:
                self.problems.add(block.node_of("call"), block.sub("call"),
                                  f"a verify call may not read secrets: {secret}")
            elif not m.is_read_only_operation(operation):
                self.problems.add(block.node_of("call"), block.sub("call"),
                                  "a verify call must be read-only")
            if self.check_call is not None:
                for suffix, message in self.check_call(service, operation, params):
                    self.problems.add(block.node_of("call"),
                                      block.sub("call" if not suffix else f"params.{suffix}"), message)
        return m.Verify(call or "", params, expect, float(timeout)) if call else None

    def check_default(self, spec: Mapping, default: Any, kind: str | None, pattern: str | None) -> None:
        """A default must fit its own rule (one naming other values is checked when known)."""
        if default is None or (kind is None and pattern is None) or any(names_in(default)):
            return
        problem = types.misfit(default, kind, pattern)
        if problem:
            self.problems.add(spec.node_of("default"), spec.sub("default"), problem)

    def check_references(self, spec: Mapping, fields: dict[str, Any]) -> None:
        """Every `{name}` must be defined by now: later steps' captures do not count."""
        for field_name, value in fields.items():
            for name in names_in(value):
                if name not in self.defined:
                    node = spec.node_of(field_name.split(".")[0])
                    self.problems.add(node, spec.sub(field_name),
                                      f"'{{{name}}}' is not defined by params, a symptom's named "
                                      "group, context, this step's inputs or an earlier capture")


def _one_of(options: tuple[str, ...]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in options else f"'{value}' is not one of: {', '.join(options)}"
    return check


def _pattern_problem(pattern: str) -> str | None:
    try:
        types.compiled(pattern)
    except types.PatternError as exc:
        return str(exc)
    return None


def _input_type_problem(kind: str) -> str | None:
    if kind in m.INPUT_TYPES or kind in types.TYPES:
        return None
    return f"'{kind}' is not one of: {', '.join((*m.INPUT_TYPES, *types.TYPES))}"


def _stat(value: str) -> str | None:
    if value in ("Average", "Sum", "Minimum", "Maximum", "SampleCount") or re.fullmatch(
            r"p\d{1,2}(\.\d+)?", value):
        return None
    return "must be Average, Sum, Minimum, Maximum, SampleCount or a percentile like p95"


def _positive(value: float) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _identifier(name: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None
