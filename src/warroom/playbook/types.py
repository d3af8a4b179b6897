"""Named parameter types and author patterns: the rule a value must fit before a step uses it.

Values come from log lines, `--param`, the selected resource and edits, so every rule runs
on untrusted text: patterns are compiled with RE2 (linear time, whatever the value).
Besides the AWS naming rule, every name type refuses a leading `-` (AWS allows it in a few
names, nobody uses it) so that a value can never be read as a command-line option.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from warroom.playbook.linear import Regex, RegexError

_PARTITION = r"arn:aws(?:-[a-z]+)*"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}"
_ACCOUNT = r"[0-9]{12}"
_MAX_SHOWN = 60  # characters of a refused value quoted in a message


@dataclass(frozen=True, slots=True)
class ParamType:
    """A named rule: the whole value matches `pattern` and nowhere matches `reject`."""

    name: str
    rule: str                   # the rule in words, for messages
    pattern: str
    reject: str | None = None   # what a linear engine cannot say as a positive pattern
    max_length: int = 1000      # RE2 counts repetitions only up to 1000


def _arn(service: str, resource: str) -> str:
    return f"{_PARTITION}:{service}:{_REGION}:{_ACCOUNT}:{resource}"


_TYPES = (
    ParamType("integer", "a whole number", r"-?[0-9]{1,18}"),
    ParamType("uuid", "a UUID like 0f8fad5b-d9cb-469f-a165-70867728950e",
              r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"),
    ParamType("region", "an AWS region like us-east-1", _REGION),
    ParamType("account_id", "a 12-digit AWS account id", _ACCOUNT),
    ParamType("arn", "an ARN: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, no spaces",
              rf"{_PARTITION}:[a-z0-9-]{{1,63}}:(?:{_REGION})?:(?:{_ACCOUNT}|aws)?:"
              r"[A-Za-z0-9_+=,.@:/*$#-]+", max_length=2048),
    ParamType("function_name", "a Lambda function name (1-64 of A-Z a-z 0-9 _ -) or function ARN",
              r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}|"
              + _arn("lambda", r"function:[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9_$-]{1,128})?")),
    ParamType("table_name", "a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)",
              r"[A-Za-z0-9_][A-Za-z0-9_.-]{2,254}"),
    ParamType("log_group", "a log group name (1-512 of A-Z a-z 0-9 _ - / . #)",
              r"[A-Za-z0-9_/.#][A-Za-z0-9_/.#-]{0,511}"),
    ParamType("stack_name", "a CloudFormation stack name (a letter, then up to 127 of "
              "A-Z a-z 0-9 -) or stack ARN",
              r"[A-Za-z][A-Za-z0-9-]{0,127}|"
              + _arn("cloudformation", r"stack/[A-Za-z][A-Za-z0-9-]{0,127}/[0-9a-f-]{36}")),
    ParamType("secret_id", "a Secrets Manager secret name (1-512 of A-Z a-z 0-9 / _ + = . @ -) or ARN",
              r"[A-Za-z0-9/_+=.@][A-Za-z0-9/_+=.@-]{0,511}|"
              + _arn("secretsmanager", r"secret:[A-Za-z0-9/_+=.@-]{1,512}")),
    ParamType("bucket", "an S3 bucket name (3-63 of a-z 0-9 . -, starting and ending with a "
              "letter or digit, no '..')", r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", reject=r"\.\."),
    ParamType("branch", "a git branch name (A-Z a-z 0-9 _ . / + -; no '..', '//', '/.', "
              "'@{' or '.lock' part; not ending in '.' or '/')",
              r"[A-Za-z0-9_][A-Za-z0-9_./+-]{0,254}",
              reject=r"\.\.|//|/\.|@\{|\.lock(?:/|$)|[./]$"),
    ParamType("lock_id", "a lock key (1-1024 of A-Z a-z 0-9 _ . : / @ + = , -)",
              r"[A-Za-z0-9_./@+=,][A-Za-z0-9_.:/@+=,-]*", max_length=1024),
    ParamType("role_name", "an IAM role name (1-64 of A-Z a-z 0-9 + = , . @ _ -)",
              r"[A-Za-z0-9+=,.@_][A-Za-z0-9+=,.@_-]{0,63}"),
    ParamType("user_name", "an IAM user name (1-64 of A-Z a-z 0-9 + = , . @ _ -)",
              r"[A-Za-z0-9+=,.@_][A-Za-z0-9+=,.@_-]{0,63}"),
    ParamType("project_name", "a CodeBuild project name (2-255 of A-Z a-z 0-9 _ -, starting "
              "with a letter or digit)", r"[A-Za-z0-9][A-Za-z0-9_-]{1,254}"),
    # AWS makes 10 of a-z 0-9; moto's API Gateway v2 (the offline account) makes 8 of a-z.
    ParamType("api_id", "an API Gateway API id (10 of a-z 0-9)", r"[a-z0-9]{10}|[a-z]{8}"),
    ParamType("alarm_name", "a CloudWatch alarm name (1-255 printable characters)",
              r"[!-~][ -~]{0,254}"),
    ParamType("topic_arn", "an SNS topic ARN",
              _arn("sns", r"[A-Za-z0-9_-]{1,256}(?:\.fifo)?")),
    ParamType("kms_key", "a KMS key id, alias/NAME or key or alias ARN",
              r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|"
              r"alias/[A-Za-z0-9/_-]{1,250}|"
              + _arn("kms", r"(?:key/[A-Za-z0-9-]{1,64}|alias/[A-Za-z0-9/_-]{1,250})")),
    ParamType("layer_name", "a Lambda layer name (1-140 of A-Z a-z 0-9 _ -) or layer ARN",
              r"[A-Za-z0-9_][A-Za-z0-9_-]{0,139}|"
              + _arn("lambda", r"layer:[A-Za-z0-9_-]{1,140}(?::[0-9]{1,10})?")),
    ParamType("ssm_parameter", "an SSM parameter name (1-2048 of A-Z a-z 0-9 _ . - /)",
              r"[A-Za-z0-9_./][A-Za-z0-9_./-]*", max_length=2048),
    ParamType("npm_package", "an npm package name, optionally @scope/ and @version "
              "(a-z 0-9 . _ ~ -, not starting with . _ or -)",
              r"(?:@[a-z0-9~][a-z0-9._~-]{0,213}/)?[a-z0-9~][a-z0-9._~-]{0,213}"
              r"(?:@[A-Za-z0-9.^~*<>=|-]{1,64})?"),
    ParamType("path", "a file path (A-Z a-z 0-9 _ . / @ + = , % -, no spaces, not starting with -)",
              r"[A-Za-z0-9_./@+=,%][A-Za-z0-9_./@+=,%-]*", max_length=4096),
    ParamType("identifier", "an identifier (a letter or _, then up to 254 of A-Z a-z 0-9 _ -)",
              r"[A-Za-z_][A-Za-z0-9_-]{0,254}"),
    ParamType("env_var_name", "an environment variable name (a letter, then A-Z a-z 0-9 _)",
              r"[A-Za-z][A-Za-z0-9_]{0,255}"),
)
TYPES: dict[str, ParamType] = {t.name: t for t in _TYPES}


PatternError = RegexError  # a pattern RE2 does not accept; the message says why


@lru_cache(maxsize=512)
def compiled(pattern: str) -> Regex:
    """`pattern` compiled with RE2, as symptom patterns are; PatternError names what RE2
    rejects (a lookaround...)."""
    return Regex(pattern)


def type_problem(name: str) -> str | None:
    """Why `name` is not a known parameter type, or None."""
    return None if name in TYPES else f"'{name}' is not a parameter type (known: {', '.join(TYPES)})"


def misfit(value: Any, type_name: str | None = None, pattern: str | None = None, *,
           secret: bool = False) -> str | None:
    """Why `value` does not fit the named type and the author's pattern, or None.

    Both must match the whole value. Unknown type names and bad patterns are the loader's
    to report; here they refuse every value rather than let one through unchecked. The
    reason quotes the value (cut short, as a Python literal: one line) unless `secret`.
    """
    if type_name is None and pattern is None:
        return None
    text = value if isinstance(value, str) else str(value)
    shown = "the value" if secret else repr(text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "...")
    if type_name is not None:
        kind = TYPES.get(type_name)
        if kind is None:
            return f"{shown} cannot be checked: unknown type '{type_name}'"
        if len(text) > kind.max_length or compiled(kind.pattern).fullmatch(text) is None or (
                kind.reject is not None and compiled(kind.reject).search(text) is not None):
            return f"{shown} is not {kind.rule}"
    if pattern is not None:
        try:
            regex = compiled(pattern)
        except PatternError as exc:
            return f"{shown} cannot be checked: pattern {pattern}: {exc}"
        if regex.fullmatch(text) is None:
            return f"{shown} does not match the pattern {pattern}"
    return None
