"""Masking secrets (keys, tokens, passwords, private keys) before text is shown, printed or logged.

Masks keep the length of what they replace, so match spans computed on the original
text stay valid on the redacted one.

Every secret shape is one alternative of a single RE2 expression. redact runs on every log
line, and anyone who can write to a log group chooses the line: RE2 matches in time linear
in the text whatever the text, where a backtracking engine rescans a long run once per
candidate start. Length rules ("at least 30 characters") are part of the patterns, so a
hostile line of near-misses yields no match to look at in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import re2

# Field names whose value is a secret. `pwd` is lower-case only: the shell's PWD=/home/...
# is a directory, not a password.
_NAMES = (r"(?:(?i:pass(?:word|wd|phrase)|token|secret|secret[_-]?(?:string|key|access[_-]?key)"
          r"|api[_-]?key|client[_-]?secret|private[_-]?key|authorization)|pwd)")
# A JSON string body: escapes are part of it, the closing quote is not required (a line
# cut short still has its secret masked).
_DQ = r'"((?:[^"\\]|\\.)*)'
_SQ = r"'((?:[^'\\]|\\.)*)"
# The same inside a JSON document that is itself a JSON string: quotes are \" and an
# escaped quote of the inner document is \\\".
_ESCAPED_DQ = r'\\"((?:\\\\\\"|\\\\|\\[^"\\]|[^"\\])*)'
# After `key=` or a flag the value may be shell syntax, which stays visible (what runs must
# show): a value starting with `$` or a backtick is an expansion, not a secret.
_SHELL_DQ = r'"((?:[^"\\$`]|\\.)(?:[^"\\]|\\.)*)'
_BARE = r"""([^\s"'&,;\\$`][^\s"'&,;\\]*)"""
_BASE64 = r"([A-Za-z0-9/+=]{16,})"
# What Terraform prints instead of a value: no secret there, nothing to mask.
_PLACEHOLDER = r"\((?:sensitive(?: value)?|known after apply)\)"

# One RE2 pattern per kind of secret. Its capture groups are the part to mask; where it has
# several, they are alternatives and one of them takes part in a match. Order matters where
# two shapes can start at the same character: the first one wins.
_SHAPES = (
    # A pagination cursor is no credential: AWS's NextToken, nextForwardToken, the CLI's
    # --starting-token, a client's next_token=Some("..."). It starts before the `token`
    # another shape would take, and masks nothing. A bare value stops where _BARE's does, so
    # that `?next_token=x&password=...` still has its password masked.
    r"""(?:["']?(?i:(?:next(?:[_-]?(?:forward|backward|page))?|continuation|pagination|page)[_-]?token)"""
    r"""["']?\s*[=:]\s*|--(?:next|starting)-token\s+)(?:"[^"]*"?|'[^']*'?|[^\s"'&,;\\]*)""",
    # {"password": "..."}, {'token': '...'} (Python reprs), "db_password", "x-api-key"
    rf"""["'][\w.-]*{_NAMES}["']\s*:\s*(?:{_DQ}|{_SQ})""",
    # the same in a JSON document embedded in a JSON string: {\"password\":\"...\"}
    rf"""\\"[\w.-]*{_NAMES}\\"\s*:\s*{_ESCAPED_DQ}""",
    # Authorization: Bearer|Basic|token ... (header dumps, curl -H)
    r"(?i:authorization)\s*[:=]\s*(?i:bearer|basic|token|digest|negotiate|apikey)\s+"
    r"""([^\s"',;]+)""",
    # password=..., AWS_SECRET_ACCESS_KEY="...", client_secret='...', --token=...
    rf"""{_NAMES}\s*=\s*(?:{_PLACEHOLDER}|{_SHELL_DQ}|{_SQ}|{_ESCAPED_DQ}|{_BARE})""",
    # --password ..., --aws-secret-access-key "..." (a value, not the next flag)
    rf"""--[\w-]*{_NAMES}\s+(?:{_SHELL_DQ}|{_SQ}|([^\s"'$`-][^\s"']*))""",
    # aws_secret_access_key: ... (YAML), `aws configure set aws_secret_access_key ...`
    r"(?i:(?:aws[_-]?)?secret[_-]?access[_-]?key|(?:aws[_-]?)?session[_-]?token)"
    rf"""\\?["']?\s*(?::\s*|\s+)\\?["']?{_BASE64}""",
    # Bearer tokens anywhere; "token X" as GitHub's Authorization header writes it
    r"(?i:bearer)\s+([A-Za-z0-9._~+/=-]{16,})",
    r"(?i:token)\s+([A-Za-z0-9_.=-]{20,})",
    # JWTs: base64url of {"...} twice, then the signature
    r"(eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)",
    # AWS access key ids, also inside words (key_AKIA...): the 16 characters after the kind
    # (the character after it, which ends the id, is part of the match but not masked)
    r"(?:AKIA|ASIA|AROA|AIDA|ANPA|ANVA|AGPA|ABIA|ACCA)([A-Z0-9]{16})(?:[^A-Z0-9]|$)",
    # GitHub: classic tokens and fine-grained PATs
    r"gh[pousr]_([A-Za-z0-9]{30,})",
    r"github_pat_([A-Za-z0-9_]{22,})",
    # Slack tokens
    r"xox[abeprs]-([A-Za-z0-9-]{10,})",
    # PEM private keys: the body up to the END line, across real or \n-escaped newlines
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----((?:[^-]|-[^-])*)",
    # Passwords in URLs: https://user:PASSWORD@host, and git's x-access-token:TOKEN@. Not
    # across shell syntax: `x-access-token:$(cmd)@` in a command must stay visible.
    r"://[^\s/?#@:]+:([^\s/?#@$`()|;&<>'\"\\]+)@",
    r"x-access-token:([A-Za-z0-9_.~-]+)@",
)
_SECRETS = re2.compile("|".join(f"(?:{shape})" for shape in _SHAPES))


def redact(text: str) -> str:
    """Replace every secret in `text` by asterisks of the same length."""
    if not text:
        return text
    out: list[str] = []
    pos = 0
    for found in _SECRETS.finditer(text):
        if found.lastindex is None:
            continue  # a shape that matched with nothing to mask (Terraform's placeholder)
        # The only group that took part: every other one is unset (-1, -1).
        start, end = found.span(found.lastindex)
        out.append(text[pos:start])
        out.append("*" * (end - start))
        pos = end
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def redact_captures(text: str, start: int, end: int, captures: Mapping[str, str]) -> dict[str, str]:
    """The captures of a match spanning text[start:end], masked where `redact` masks the line.

    A capture taken alone loses the context that marks it as a secret (`secret_access_key=`
    before it), so it is masked by where it sits in the line. A match carries no position
    per group: a value found at one place in the match gets that place's masks; one found at
    several, in a match that has any mask, is masked whole. Linear in the line.
    """
    # The whole line: a secret's context (its key name) may lie before the match.
    if not captures or not may_hold_secrets(text):
        return dict(captures)
    shown = redact(text)
    if shown[start:end] == text[start:end]:
        return dict(captures)
    out: dict[str, str] = {}
    for name, value in captures.items():
        first = text.find(value, start, end) if value else -1
        if first < 0:  # not in the match (not from this line): alone is all there is
            out[name] = redact(value)
        elif text.find(value, first + 1, end) < 0:
            out[name] = shown[first:first + len(value)]
        else:
            out[name] = "*" * len(value)
    return out


def redact_value(value: Any) -> Any:
    """Redact strings anywhere inside a nested JSON-like value."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(v) for v in value]
    return value


def may_hold_secrets(text: str) -> bool:
    """False only if `redact` would change nothing in `text` or in any line of it.

    One linear pass: whatever a line would match, the lines joined match too (the one
    end-of-text anchor, after an access key id, is met as well by the newline that follows
    the line), so a batch of messages is tested at once.
    """
    return any(found.lastindex is not None for found in _SECRETS.finditer(text))
