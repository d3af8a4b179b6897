"""The playbook domain model: plain frozen dataclasses built by the loader."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeVar

from warroom.playbook.linear import Found, Regex
from warroom.playbook.readable import Envelope

_T = TypeVar("_T")

Severity = Literal["critical", "high", "medium", "low"]
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low")

SERVICES: tuple[str, ...] = (
    "lambda", "apigateway", "dynamodb", "codebuild", "cloudformation", "iam", "kms",
    "secretsmanager", "ssm", "sns", "s3", "cloudwatch", "logs", "xray", "sts", "aws",
    "terraform", "cdk", "npm", "python", "github", "git",
)

# State probes the AWS layer knows how to evaluate; a playbook naming another is an error.
PROBE_KINDS: tuple[str, ...] = (
    "sns-subscription-pending",   # an email subscription still PendingConfirmation
    "secret-missing",             # a named secret does not exist
    "secret-empty",               # a secret exists but has no (or an empty) value
    "secret-invalid-json",        # a secret value that should be JSON does not parse
    "lock-expired",               # a lock item older than its TTL is still in the table
    "log-group-missing",          # a Lambda function with no log group
    "log-streams-missing",        # a log group with no streams
    "metrics-missing",            # a resource with no datapoints for a metric
    "tracing-off",                # a Lambda function with X-Ray tracing PassThrough
    "alarm-no-actions",           # an alarm with no actions or actions disabled
    "alarm-insufficient-data",    # an alarm stuck in INSUFFICIENT_DATA
    "env-var-missing",            # a Lambda function missing a required environment variable
    "kms-key-disabled",           # a KMS key that is disabled or pending deletion
    "stack-failed",               # a CloudFormation stack in a *_FAILED / ROLLBACK state
    "codebuild-project-missing",  # a configured CodeBuild project that does not exist
    "function-missing",           # a configured Lambda function that does not exist
)

COMPARISONS: tuple[str, ...] = (">", ">=", "<", "<=")
# An input's type is one of these or a named parameter type (playbook/types.py).
INPUT_TYPES: tuple[str, ...] = ("str", "int", "float", "bool", "secret", "choice")
RESOURCE_KINDS: tuple[str, ...] = (
    "function", "log_group", "api", "table", "project", "stack", "topic", "secret",
    "key", "alarm", "bucket", "parameter", "layer", "role",
)
CONTEXT_SOURCES: tuple[str, ...] = ("log_group", "stream", "message", "resource")

# Operation name prefixes that only read; anything else is treated as a mutation. Not
# "Test": TestInvokeMethod, TestFunction and TestState run the real backend.
READ_ONLY_PREFIXES: tuple[str, ...] = (
    "Get", "List", "Describe", "Scan", "Query", "BatchGet", "Lookup", "Search",
    "Filter", "Head", "Select", "Simulate", "Estimate", "Validate", "Check",
)
DESTRUCTIVE_PREFIXES: tuple[str, ...] = (
    "Delete", "Remove", "Terminate", "Purge", "Disable", "Deregister", "Detach",
    "Revoke", "ScheduleKeyDeletion", "Stop", "Cancel",
)


def unpickled_fast(cls: type[_T]) -> type[_T]:
    """A frozen slotted dataclass whose objects unpickle fast: the matcher cache holds
    thousands of them, and dataclasses' own `__setstate__` looks up the fields for each."""
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type] - a dataclass
    put = object.__setattr__  # the class is frozen

    def __setstate__(self: _T, state: list[Any]) -> None:
        for name, value in zip(names, state, strict=True):
            put(self, name, value)

    cls.__setstate__ = __setstate__  # type: ignore[attr-defined]
    return cls


@unpickled_fast
@dataclass(frozen=True, slots=True)
class Where:
    """Where a value came from: file, line (1-based) and dotted field path."""

    file: str
    line: int
    field: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}"


@unpickled_fast
@dataclass(frozen=True, slots=True)
class Source:
    file: str
    section: str


@unpickled_fast
@dataclass(frozen=True, slots=True)
class Param:
    """A playbook parameter filled from captures, the selected resource or the user."""

    name: str
    description: str = ""
    default: Any = None
    resource: str | None = None
    type: str | None = None      # a named rule from playbook/types.py, e.g. table_name
    pattern: str | None = None   # an RE2 pattern the whole value must match


@unpickled_fast
@dataclass(frozen=True, slots=True)
class Compare:
    """A condition between two captures of a match, e.g. `used == memory`.

    Numbers when both values are numbers, else text; a capture that took no part fails it.
    """

    left: str
    op: str
    right: str

    def holds(self, found: Found) -> bool:
        left, right = found.group(self.left), found.group(self.right)
        if left is None or right is None:
            return False
        compare = _OPERATORS[self.op]
        try:
            return compare(float(left), float(right))
        except ValueError:
            return compare(left, right)


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}
COMPARE_OPS: tuple[str, ...] = tuple(_OPERATORS)


@unpickled_fast
@dataclass(frozen=True, slots=True)
class TextSymptom:
    """A pattern in a log line; `unless` (anywhere in the line) and `compare` veto a match."""

    pattern: str
    regex: Regex
    ignore_case: bool = False
    priority: int = 50
    log_groups: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    where: Where | None = None
    unless: Regex | None = None
    compare: Compare | None = None

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(self.regex.groupindex)

    def search(self, line: str, data: bytes | None = None, within: Envelope | None = None) -> Found | None:
        """The first match in `line` that no veto rules out (`data`: as for `Regex.search`;
        `within`: the JSON object `line` is a string of, see `ruled_out`)."""
        if self.ruled_out(line, data, within):
            return None
        if self.compare is None:
            return self.regex.search(line, data)
        return self.held(self.regex.finditer(line, data))

    def ruled_out(self, line: str, data: bytes | None = None, within: Envelope | None = None) -> bool:
        """Whether `unless` finds its text in `line`, or in the JSON object `within` when
        `line` is one of its strings (the envelope's `"severity":"warning"` is context the
        message alone has lost)."""
        unless = self.unless
        return unless is not None and (unless.search(line, data) is not None
                                       or (within is not None and within.holds(unless)))

    def held(self, found: Iterable[Found]) -> Found | None:
        """The first of the regex's matches that the compare holds for."""
        assert self.compare is not None
        for one in found:  # like a backreference, a later match may do
            if self.compare.holds(one):
                return one
        return None


@unpickled_fast
@dataclass(frozen=True, slots=True)
class MetricSymptom:
    namespace: str
    metric: str
    stat: str
    dimension: str
    comparison: str
    threshold: float
    period: int = 300
    evaluation_periods: int = 1
    resource: str | None = None
    where: Where | None = None


@unpickled_fast
@dataclass(frozen=True, slots=True)
class ProbeSymptom:
    probe: str
    params: dict[str, Any] = field(default_factory=dict)
    resource: str | None = None
    where: Where | None = None


Symptom = TextSymptom | MetricSymptom | ProbeSymptom


@unpickled_fast
@dataclass(frozen=True, slots=True)
class ContextRule:
    """A parameter taken from where a line came from (its log group, stream or message)."""

    name: str
    source: str
    regex: Regex


@unpickled_fast
@dataclass(frozen=True, slots=True)
class Input:
    name: str
    prompt: str
    type: str = "str"
    default: Any = None
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    pattern: str | None = None

    @property
    def secret(self) -> bool:
        return self.type == "secret"


@unpickled_fast
@dataclass(frozen=True, slots=True)
class Verify:
    call: str
    params: dict[str, Any]
    expect: dict[str, Any]
    timeout: float = 60.0


@unpickled_fast
@dataclass(frozen=True, slots=True)
class Step:
    """One step: exactly one of an AWS call, a shell command or a manual instruction."""

    title: str
    kind: Literal["call", "shell", "manual"]
    description: str = ""
    call: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    shell: str | None = None
    cwd: str | None = None
    manual: str | None = None
    commands: tuple[str, ...] = ()
    inputs: tuple[Input, ...] = ()
    show: tuple[str, ...] = ()
    capture: dict[str, str] = field(default_factory=dict)
    verify: Verify | None = None
    destructive: bool = False
    confirm_name: str | None = None
    where: Where | None = None

    @property
    def service(self) -> str | None:
        return self.call.split(".", 1)[0] if self.call else None

    @property
    def operation(self) -> str | None:
        return self.call.split(".", 1)[1] if self.call else None

    @property
    def mutating(self) -> bool:
        """True when running this step can change something outside warroom."""
        if self.kind == "manual":
            return False
        if self.kind == "shell":
            return True
        return not is_read_only_operation(self.operation or "")


@unpickled_fast
@dataclass(frozen=True, slots=True)
class Playbook:
    id: str
    title: str
    service: str
    severity: str
    sources: tuple[Source, ...]
    cause: str
    prevention: str
    symptoms: tuple[Symptom, ...]
    diagnose: tuple[Step, ...] = ()
    fix: tuple[Step, ...] = ()
    params: tuple[Param, ...] = ()
    context: tuple[ContextRule, ...] = ()
    path: str = ""

    @property
    def text_symptoms(self) -> tuple[TextSymptom, ...]:
        return tuple(s for s in self.symptoms if isinstance(s, TextSymptom))

    @property
    def metric_symptoms(self) -> tuple[MetricSymptom, ...]:
        return tuple(s for s in self.symptoms if isinstance(s, MetricSymptom))

    @property
    def probe_symptoms(self) -> tuple[ProbeSymptom, ...]:
        return tuple(s for s in self.symptoms if isinstance(s, ProbeSymptom))

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def resource_param(self, kind: str = "") -> Param | None:
        """The parameter a selected resource fills: the one declared for its kind.

        With the kind unknown (a name typed by the user), the first resource parameter.
        """
        candidates = [p for p in self.params if p.resource]
        if kind:
            return next((p for p in candidates if p.resource == kind), None)
        return candidates[0] if candidates else None


def camel(operation: str) -> str:
    """`get_function_configuration` -> `GetFunctionConfiguration`."""
    return "".join(part[:1].upper() + part[1:] for part in operation.split("_"))


def is_read_only_operation(operation: str) -> bool:
    return camel(operation).startswith(READ_ONLY_PREFIXES)


def is_destructive_operation(operation: str) -> bool:
    return camel(operation).startswith(DESTRUCTIVE_PREFIXES)
