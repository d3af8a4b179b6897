"""What the user means by "my stack": name prefixes, CloudFormation stacks, and tags.

A scope is the union of what each criterion admits. Stacks are read with
ListStackResources (nested stacks included) and tags with the Resource Groups Tagging API,
once per discovery; a resource is in scope when its name, id or ARN is one of theirs, and a
log group when it belongs to a resource in scope.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from warroom.aws.session import AwsSession, error_code, explain
from warroom.errors import UserError
from warroom.incident.records import Resource

MAX_NESTING = 5  # nested stacks followed this deep


@dataclass(frozen=True, slots=True)
class Scope:
    """The criteria, as given on the command line or in the config file."""

    prefixes: tuple[str, ...] = ()
    stacks: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def by_membership(self) -> bool:
        """True when the scope is read from AWS (stacks, tags), not from names alone."""
        return bool(self.stacks or self.tags)

    def __str__(self) -> str:
        parts = [*(f"stack {s}" for s in self.stacks), *(f"tag {k}={v}" for k, v in self.tags),
                 *(f"prefix {p}" for p in self.prefixes)]
        return ", ".join(parts) or "everything"


def parse_tag(text: str) -> tuple[str, str]:
    """`KEY=VALUE` -> (KEY, VALUE); a UserError names what is wrong."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UserError(f"--tag {text!r}: expected KEY=VALUE, e.g. --tag app=buildingos")
    return key.strip(), value.strip()


@dataclass
class Members:
    """The ids and ARNs that stacks and tags put in scope, with where each came from."""

    origin: dict[str, tuple[str, str]] = field(default_factory=dict)  # id or ARN -> (stack, logical id)
    arns: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)

    def of(self, resource: Resource) -> tuple[str, str] | None:
        """(stack, logical id) of a resource a stack holds; ('', '') if only tagged; else None."""
        for key in _keys(resource):
            if key in self.origin:
                return self.origin[key]
        if any(key in self.arns for key in _keys(resource)):
            return "", ""
        return None


def _keys(resource: Resource) -> list[str]:
    attrs = resource.attributes
    keys = [resource.name, resource.arn, resource.arn.removesuffix(":*")]
    keys += [str(attrs[k]) for k in ("ApiId", "KeyId") if attrs.get(k)]
    return [k for k in keys if k]


class StackMissing(str):
    """The warning that a scope's stack is not in one region; `merge_warnings` makes it one
    warning when the stack is in no region, and none when another region has it."""

    stack: str

    def __new__(cls, text: str, stack: str) -> StackMissing:
        made = super().__new__(cls, text)
        made.stack = stack
        return made


def merge_warnings(by_region: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """Each region's warnings as one list, named by region when there are several.

    A missing stack is a warning only when no region has it (the stack spans regions, or
    lives in one of them), and then once.
    """
    several = len(by_region) > 1
    missing: dict[str, list[str]] = {}
    out: list[str] = []
    for region, warnings in by_region:
        for warning in warnings:
            if isinstance(warning, StackMissing):
                missing.setdefault(warning.stack, []).append(warning)
            else:
                out.append(f"{region}: {warning}" if several and region else warning)
    for stack, lacking in missing.items():
        if len(lacking) == len(by_region):
            out.append(lacking[0] if not several else
                       f"stack {stack}: no such stack in any of the regions ({', '.join(r for r, _ in by_region)})")
    return list(dict.fromkeys(out))


async def members(session: AwsSession, scope: Scope) -> Members:
    """Everything the scope's stacks and tags name; an unreadable one is a warning."""
    found = Members()
    for stack in scope.stacks:
        try:
            await _stack_members(session, stack, found, depth=0)
        except Exception as exc:  # noqa: BLE001 - one stack's failure is reported, not fatal
            text = f"stack {stack}: {explain(exc, session.options)}"
            found.warnings.append(StackMissing(text, stack) if _no_such_stack(exc) else text)
    if scope.tags:
        try:
            found.arns |= await _tagged(session, scope.tags)
        except Exception as exc:  # noqa: BLE001
            found.warnings.append(f"tags: {explain(exc, session.options)}")
    return found


def _no_such_stack(exc: Exception) -> bool:
    # CloudFormation answers ValidationError "Stack with id NAME does not exist".
    return error_code(exc) == "ValidationError" and "does not exist" in str(exc)


async def _stack_members(session: AwsSession, stack: str, found: Members, depth: int) -> None:
    client = await session.client("cloudformation")
    name = stack.split("/")[1] if stack.startswith("arn:") else stack
    found.origin.setdefault(name, (name, name))
    async for page in client.get_paginator("list_stack_resources").paginate(StackName=stack):
        for item in page.get("StackResourceSummaries", []):
            physical = item.get("PhysicalResourceId")
            if not physical:
                continue
            found.origin.setdefault(physical, (name, item.get("LogicalResourceId", "")))
            if item.get("ResourceType") == "AWS::CloudFormation::Stack" and depth < MAX_NESTING:
                await _stack_members(session, physical, found, depth + 1)


async def _tagged(session: AwsSession, tags: Sequence[tuple[str, str]]) -> set[str]:
    client = await session.client("resourcegroupstaggingapi")
    filters = [{"Key": key, "Values": [value]} for key, value in tags]
    arns: set[str] = set()
    # One query per tag: the union, as for stacks (TagFilters in one call would intersect).
    for tag_filter in filters:
        async for page in client.get_paginator("get_resources").paginate(TagFilters=[tag_filter]):
            arns.update(item["ResourceARN"] for item in page.get("ResourceTagMappingList", []))
    return arns


def select(resources: list[Resource], scope: Scope, found: Members,
           by_name: Any) -> list[Resource]:
    """The resources in scope, each from a stack labelled with its stack and logical id.

    `by_name(name)` says whether a name passes the prefixes. A log group is in scope when a
    resource in scope writes to it, or when a stack or tag names it.
    """
    kept: list[Resource] = []
    for resource in resources:
        origin = found.of(resource)
        if origin is None and not (scope.prefixes and by_name(resource.name)):
            continue
        if origin and origin[1]:
            resource = dataclasses.replace(resource, attributes={
                **resource.attributes, "Stack": origin[0], "LogicalId": origin[1]})
        kept.append(resource)
    writers = {r.log_group: r for r in kept if r.log_group and r.kind != "log_group"}
    names = {r.name for r in kept}
    for resource in resources:
        if resource.kind == "log_group" and resource.name in writers and resource.name not in names:
            owner = writers[resource.name].attributes
            attributes = dict(resource.attributes)
            if owner.get("LogicalId"):
                attributes.update(Stack=owner["Stack"], LogicalId=owner["LogicalId"])
            kept.append(dataclasses.replace(resource, attributes=attributes))
    return kept
