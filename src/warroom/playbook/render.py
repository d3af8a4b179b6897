"""Plain-text rendering of a playbook, for `warroom playbooks show` and line mode."""

from __future__ import annotations

import json
from collections.abc import Iterator

from warroom.playbook import model as m


def describe(p: m.Playbook) -> Iterator[str]:
    yield f"{p.id}: {p.title}"
    yield f"  service {p.service} · severity {p.severity} · {p.path}"
    yield "Sources:"
    for s in p.sources:
        yield f"  - {s.file} › {s.section}"
    yield "Symptoms:"
    for s in p.symptoms:
        yield f"  - {symptom_text(s)}"
    if p.params:
        yield "Parameters:"
        for param in p.params:
            default = f" (default {param.default})" if param.default is not None else ""
            yield f"  {param.name}: {param.description}{default}"
    yield "Cause:"
    yield from _indented(p.cause)
    if p.diagnose:
        yield "Diagnose (read-only):"
        for i, step in enumerate(p.diagnose, 1):
            yield from step_lines(i, step)
    yield "Fix:"
    for i, step in enumerate(p.fix, 1):
        yield from step_lines(i, step)
    yield "Prevention:"
    yield from _indented(p.prevention)


def symptom_text(s: m.Symptom) -> str:
    if isinstance(s, m.TextSymptom):
        where = f" in {', '.join(s.log_groups)}" if s.log_groups else ""
        case = " (any case)" if s.ignore_case else ""
        unless = f" unless /{s.unless.pattern}/" if s.unless is not None else ""
        compare = (f" where {s.compare.left} {s.compare.op} {s.compare.right}"
                   if s.compare is not None else "")
        return f"log line /{s.pattern}/{case}{compare}{unless}{where}"
    if isinstance(s, m.MetricSymptom):
        return (f"metric {s.namespace} {s.metric} {s.stat} {s.comparison} {s.threshold:g} "
                f"over {s.period}s per {s.dimension}")
    params = ", ".join(f"{k}={v}" for k, v in s.params.items())
    return f"probe {s.probe}" + (f" ({params})" if params else "")


def step_lines(number: int, step: m.Step) -> Iterator[str]:
    flag = " [destructive]" if step.destructive else (" [changes AWS]" if step.mutating and step.kind == "call" else "")
    yield f"  {number}. {step.title}{flag}"
    if step.description:
        yield from _indented(step.description, 5)
    if step.kind == "call":
        yield f"     call {step.call} {json.dumps(step.params, ensure_ascii=False)}"
        if step.show:
            yield f"     show {', '.join(step.show)}"
    elif step.kind == "shell":
        yield f"     $ {step.shell}" + (f"   (in {step.cwd})" if step.cwd else "")
    else:
        yield from _indented(step.manual or "", 5)
    for command in step.commands:
        yield f"     $ {command}"
    for item in step.inputs:
        yield f"     input {item.name}: {item.prompt} ({item.type}" + (
            f", default {item.default})" if item.default is not None else ")")
    if step.verify is not None:
        expect = ", ".join(f"{k}={v}" for k, v in step.verify.expect.items())
        yield f"     verify {step.verify.call} until {expect}"


def _indented(text: str, by: int = 2) -> Iterator[str]:
    for line in text.strip().splitlines():
        yield " " * by + line
