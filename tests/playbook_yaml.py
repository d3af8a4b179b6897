"""A minimal valid playbook as YAML text, for tests that need a user's own symptom."""

from __future__ import annotations

import textwrap


def playbook_yaml(pid: str, symptoms: str, title: str | None = None) -> str:
    """A playbook `pid` whose `symptoms:` list is `symptoms` (YAML list items, any indent)."""
    return textwrap.dedent(f"""\
        id: {pid}
        title: {title or f"{pid} title"}
        service: lambda
        severity: high
        sources:
          - {{file: guide.md, section: "A > B"}}
        symptoms:
        """) + textwrap.indent(textwrap.dedent(symptoms).strip("\n"), "  ") + textwrap.dedent("""
        cause: Something.
        fix:
          - title: Look
            manual: Look at it.
        prevention: Less of it.
        """)
