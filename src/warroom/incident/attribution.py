"""What a finding is about and the parameters it fills: from its line, from where the line
came from (context rules) and from the resource it belongs to. The console, `warroom check`
and the probes attribute alike through here."""

from __future__ import annotations

from warroom.incident.records import Record, Resource
from warroom.playbook.model import Param, Playbook
from warroom.redact import redact_captures


def record_captures(playbook: Playbook | None, record: Record, owner: Resource | None) -> dict[str, str]:
    """The parameters a matched record gives its playbook: the symptom's captures (secrets
    redacted) over the context rules' (where it came from) over what its resource fills."""
    best = record.matches[0]
    captures = redact_captures(record.message, best.start, best.end, best.captures)
    if playbook is None:
        return captures
    params = context_params(playbook, record)
    if owner is not None:
        params = {**resource_captures(playbook, owner, record.message), **params}
    return {**params, **captures}


def named_resource(playbook: Playbook, captures: dict[str, str],
                   owner: Resource | None) -> tuple[str, str] | None:
    """(name, kind) of the first resource the captures name (a log group's owner is meant,
    not the group); the owner itself when the value is the owner's (an API's id)."""
    for p in playbook.params:
        if p.resource and p.resource != "log_group" and p.name in captures:
            if owner is not None and owner.kind == p.resource and captures[p.name] == resource_value(owner, p):
                return owner.name, owner.kind
            return captures[p.name], p.resource
    return None


def context_params(playbook: Playbook, record: Record) -> dict[str, str]:
    """Parameters a playbook's context rules take from where a record came from."""
    out: dict[str, str] = {}
    for rule in playbook.context:
        text = {"log_group": record.group, "stream": record.stream,
                "message": record.message}.get(rule.source)
        if text is None:
            continue
        found = rule.regex.search(text)
        if found is None:
            continue
        named = {k: v for k, v in found.groupdict().items() if v is not None} or {rule.name: found.group(0)}
        if rule.source == "message":
            named = redact_captures(record.message, found.start(), found.end(), named)
        out.update({rule.name: named[rule.name]} if rule.name in named else named)
    return out


def resource_captures(playbook: Playbook, resource: Resource, message: str = "") -> dict[str, str]:
    """Parameters of `playbook` this resource fills: those of its kind (see `resource_value`).

    A function also fills its execution role. An API also fills the function its
    integration calls (for the route named in `message`, an access-log line, or its only
    function), so a finding from an access log reaches the function it is about.
    """
    captures = {p.name: value for p in playbook.params if p.resource == resource.kind
                for value in [resource_value(resource, p)] if value}
    related = {"role": role_name(resource.attributes.get("Role"))} if resource.kind == "function" else {}
    for p in playbook.params:
        if p.resource in related and related[p.resource]:
            captures.setdefault(p.name, related[p.resource])
    if resource.kind == "api":
        function = integration_function(resource, message)
        if function:
            for p in playbook.params:
                if p.resource == "function":
                    captures.setdefault(p.name, function)
    return captures


# Kinds their APIs know by ARN rather than by the name the console shows: SNS takes only a
# topic's ARN, and KMS's GetKeyPolicy no alias (an alias is how a key is named).
BY_ARN = frozenset({"topic", "key"})


def resource_value(resource: Resource, param: Param) -> str:
    """What `resource` gives a parameter of its kind: its name, its ARN for a kind its APIs
    know by ARN, or an API's id for an `api_id` parameter ('' when discovery did not learn
    the id or the ARN)."""
    if param.type == "api_id":
        return str(resource.attributes.get("ApiId") or "")
    if resource.kind in BY_ARN:
        return resource.arn
    return resource.name


def integration_function(api: Resource, message: str = "") -> str:
    """The function behind the API route quoted in `message`, else the API's only one, or ''."""
    routes = api.attributes.get("Routes")
    if not isinstance(routes, dict) or not routes:
        return ""
    # The longest quoted route key wins: `"GET /a/{id}"` over `"GET /a"`.
    quoted = [key for key in routes if f'"{key}"' in message]
    if quoted:
        return str(routes[max(quoted, key=len)])
    functions = set(routes.values())
    return str(functions.pop()) if len(functions) == 1 else ""


def role_name(arn: object) -> str:
    """`arn:aws:iam::123456789012:role/path/name` -> `name`; '' for anything else."""
    text = str(arn or "")
    return text.rsplit("/", 1)[-1] if ":role/" in text else ""
