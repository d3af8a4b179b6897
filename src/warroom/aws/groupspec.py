"""Which log groups a GROUP argument (a name, a prefix or a glob) selects."""

from __future__ import annotations

import fnmatch
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

GLOB_CHARS = "*?["


def is_glob(spec: str) -> bool:
    return any(c in spec for c in GLOB_CHARS)


def spec_matches(spec: str, name: str) -> bool:
    """Whether a GROUP argument selects a log group.

    A glob matches the whole name (or, with no '/', the last path component); a name
    starting with '/' is an exact name or prefix; a bare word is a prefix of the name
    or of any of its path components (`bos-dev` selects `/aws/lambda/bos-dev-api`).
    """
    if is_glob(spec):
        if fnmatch.fnmatchcase(name, spec):
            return True
        return "/" not in spec and fnmatch.fnmatchcase(name.rsplit("/", 1)[-1], spec)
    if spec.startswith("/"):
        return name.startswith(spec)
    return name.startswith(spec) or any(part.startswith(spec) for part in name.split("/"))


def listing_params(spec: str) -> dict[str, str]:
    """DescribeLogGroups parameters that narrow the listing server-side for a spec."""
    if is_glob(spec):
        literal = spec[: min(spec.index(c) for c in GLOB_CHARS if c in spec)]
        return {"logGroupNamePrefix": literal} if literal.startswith("/") and literal else {}
    if spec.startswith("/"):
        return {"logGroupNamePrefix": spec}
    return {}


async def selected_groups(specs: Sequence[str], describe: Callable[..., Awaitable[dict[str, Any]]]
                          ) -> dict[str, str]:
    """name -> ARN of every log group some spec selects; `describe(**params)` answers one
    DescribeLogGroups page. Specs that narrow the listing alike share its pages."""
    found: dict[str, str] = {}
    seen_params: set[tuple[tuple[str, str], ...]] = set()
    for spec in specs:
        params = listing_params(spec)
        key = tuple(sorted(params.items()))
        if key in seen_params:
            continue
        seen_params.add(key)
        token: str | None = None
        while True:
            answer = await describe(**params, **({"nextToken": token} if token else {}))
            for entry in answer.get("logGroups", []):
                name = entry["logGroupName"]
                if any(spec_matches(s, name) for s in specs):
                    found[name] = entry.get("logGroupArn") or entry.get("arn", "").removesuffix(":*")
            token = answer.get("nextToken")
            if not token:
                break
    return found
