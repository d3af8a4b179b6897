"""Which log groups a GROUP argument (a name, a prefix or a glob) selects."""

from __future__ import annotations

import fnmatch

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
