"""The line-mode front end of the runner: plain prompts on stdin, plain lines on stdout."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import IO, Any

from warroom.playbook.model import Input
from warroom.runner import Aborted, Edit, Progress, StepError, StepPlan
from warroom.runner.inputs import CWD_INPUT
from warroom.runner.events import FailureChoice
from warroom.textout import Paint, inert, use_colour


class LinePrompter:
    """Asks on stdin; `--yes` answers y/N confirms and accepts defaults, never typed names
    unless every value in the name was given on the command line (`explicit`)."""

    def __init__(self, *, yes: bool = False, explicit: set[str] | None = None,
                 out: IO[str] | None = None, stdin: IO[str] | None = None) -> None:
        self.yes = yes
        self.explicit = explicit or set()
        self.out = out or sys.stdout
        self.stdin = stdin or sys.stdin
        self._lines = _Lines(self.stdin)
        self.paint = Paint(use_colour(self.out))

    # -- output -------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def show_plan(self, plan: StepPlan, heading: str | None = None) -> None:
        flag = " [destructive]" if plan.destructive else (" [changes AWS]" if plan.mutating and plan.kind == "call"
                                                          else "")
        self.say(self.paint(heading or f"{plan.phase.capitalize()} {plan.number}. {inert(plan.title)}", "1") + flag)
        if plan.description:
            for line in textwrap.wrap(inert(plan.description), 96):
                self.say(f"   {line}")
        if plan.call:
            self.say(f"   call    {plan.call}" + (f" ({plan.api})" if plan.api else ""))
            self.say(f"   params  {inert(json.dumps(plan.params, ensure_ascii=False, default=str))}")
            self.say(f"   cli     {inert(plan.cli or '')}")
        if plan.shell:
            self.say(f"   $ {inert(plan.shell)}")
            self.say(f"   in      {inert(plan.cwd or '.')}")
        if plan.manual:
            for line in textwrap.wrap(inert(plan.manual), 96):
                self.say(f"   {line}")
        for command in plan.commands:
            self.say(f"   $ {inert(command)}")
        if plan.verify is not None:
            expect = ", ".join(f"{k} = {v}" for k, v in plan.verify.expect.items())
            self.say(f"   verify  {plan.verify.call} until {inert(expect)} (up to {plan.verify.timeout:g} s)")
        if plan.unresolved:
            self.say(f"   needs   {', '.join(plan.unresolved)} (known when it runs)")
        for problem in plan.problems:
            self.say(f"   problem {inert(problem)}")

    async def on_progress(self, event: Progress) -> None:
        plan, kind = event.plan, event.kind
        label = f"{plan.phase} {plan.number}" if plan else ""
        message = inert(event.message)
        if kind == "refused" and plan:
            self.say(self.paint(f"REFUSED (read-only): {plan.phase} {plan.number}. {inert(plan.title)}", "1;33")
                     + (f"  [{plan.call}]" if plan.call else ""))
        elif kind == "planned" and plan:
            self.show_plan(plan)
            self.say("   (dry run: not executed)" if plan.mutating else
                     "   (manual: for you to do)" if plan.kind == "manual" else "   (read-only)")
            self.say()
        elif kind == "diagnosed" and plan:
            self.say(self.paint(f"Diagnose {plan.number}. {inert(plan.title)}", "1"))
            shown = event.data.get("shown")
            if isinstance(shown, dict):
                for key, value in shown.items():
                    self.say(f"   {inert(str(key))}: {inert(_text(value))}")
            else:
                self.say(f"   {inert(_text(shown))}")
        elif kind == "executing":
            self.say(self.paint(f"-> running {label}: {message}", "36"))
        elif kind == "output":
            self.say(f"   | {message}")
        elif kind == "result":
            result = event.data.get("result")
            if plan and isinstance(result, dict) and any(k in result for k in plan.params):
                # What the step set, as the service now reports it; the rest is in the audit.
                result = {k: result[k] for k in plan.params if k in result}
            self.say(f"   result: {inert(_text(result, 300))}")
        elif kind == "verifying":
            self.say(self.paint(f"   verifying ({event.data.get('attempt')}): {message}", "2"))
        elif kind == "done":
            self.say(self.paint(f"   ✓ {label} done: {message}", "32"))
        elif kind == "failed":
            self.say(self.paint(f"   ✗ {label} failed: {message}", "1;31"))
        elif kind == "skipped":
            self.say(f"   - {label} {message}")
        elif kind in ("aborted", "note"):
            self.say(message)

    # -- questions ----------------------------------------------------------------------

    async def _read(self, prompt: str, secret: bool = False) -> str:
        """One answer line; end of input ends the run (nothing more will be answered).

        Read on the event loop, not in a thread: Ctrl-C cancels the wait at once, where a
        thread blocked in readline would hold the exit until Enter.
        """
        with _no_echo(self.stdin) if secret and self.stdin.isatty() else nullcontext():
            print(prompt, end="", file=self.out, flush=True)  # once echo is off, as getpass does
            line = await self._lines.readline()
        if not line:
            self.say()
            raise Aborted(reason="input closed")
        if secret:
            self.say()  # the answer was not echoed; end the prompt line
        return line.rstrip("\r\n")

    async def ask_input(self, spec: Input, default: Any, problem: str | None = None) -> Any:
        if problem:
            self.say(self.paint(f"   {inert(problem)}", "33"))
        shown = "" if default is None or spec.secret else f" [{inert(str(default))}]"
        choices = f" ({'/'.join(spec.choices)})" if spec.choices else ""
        prompt = f"{inert(spec.prompt)}{choices}{shown}: "
        if self.yes and default is not None and not problem:
            self.say(f"{prompt}{inert(str(default))}  (default, --yes)")
            return default
        answer = await self._read(prompt, secret=spec.secret)
        return answer if answer.strip() else default

    async def confirm(self, plan: StepPlan) -> bool | Edit:
        self.say()
        self.show_plan(plan)
        if self.yes:
            self.say("Run this step? y  (--yes)")
            return True
        while True:
            answer = (await self._read("Run this step? [y/N/e=edit] ")).strip().lower()
            if answer in ("y", "yes"):
                return True
            if answer in ("", "n", "no"):
                return False
            if answer in ("e", "edit"):
                return await self._edit(plan)

    async def _edit(self, plan: StepPlan) -> Edit:
        values: dict[str, Any] = {}
        for item in plan.step.inputs:
            answer = await self._read(f"{inert(item.prompt)} (empty: keep): ", secret=item.secret)
            if answer.strip():
                values[item.name] = answer
        if plan.kind == "shell":
            answer = await self._read(f"Working directory [{inert(plan.cwd or '.')}]: ")
            if answer.strip():
                values[CWD_INPUT] = answer
        return Edit(values)

    async def confirm_typed(self, plan: StepPlan, expected: str) -> bool:
        self.say()
        self.show_plan(plan)
        if self.yes and plan.confirm_from and all(n in self.explicit for n in plan.confirm_from):
            self.say(f"Destructive: confirmed by --yes with {', '.join(plan.confirm_from)} given on the command line")
            return True
        if self.yes:
            self.say("--yes does not confirm a destructive step unless "
                     + ", ".join(f"--param {n}=..." for n in plan.confirm_from) + " is given; asking.")
        if not expected or inert(expected) != expected:
            # A name that cannot be shown exactly as it must be typed cannot be confirmed.
            self.say(f"   the name to type ({inert(expected) or 'none'}) cannot be typed as shown; not run")
            return False
        answer = await self._read(f"Destructive. To confirm, type the name {expected} "
                                  "(anything else skips): ")
        if answer.strip() == expected:
            return True
        self.say(f"   the name typed is not {expected}; not run")
        return False

    async def on_failure(self, plan: StepPlan, error: StepError) -> FailureChoice:
        if self.yes:
            self.say("   (--yes: stopping at the first failure)")
            return "abort"
        while True:
            answer = (await self._read("Retry, skip or abort? [r/s/A] ")).strip().lower()
            if answer in ("r", "retry"):
                return "retry"
            if answer in ("s", "skip"):
                return "skip"
            if answer in ("", "a", "abort"):
                return "abort"

    async def mark_manual_done(self, plan: StepPlan) -> bool:
        self.say()
        self.show_plan(plan)
        if self.yes:
            self.say("   (manual: left for you, not marked done)")
            return False
        answer = (await self._read("Mark as done? [y/N] ")).strip().lower()
        return answer in ("y", "yes")


class _Lines:
    """Lines of stdin read on the event loop, so that a cancel ends the wait at once."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        try:
            self.fd: int | None = stream.fileno()
        except (AttributeError, OSError, ValueError):
            self.fd = None  # an in-memory stream: reading it never waits
        self.buffer = b""
        self.eof = False

    async def readline(self) -> str:
        if self.fd is None:
            return self.stream.readline()
        while b"\n" not in self.buffer and not self.eof:
            await self._readable()
            chunk = os.read(self.fd, 65536)
            self.eof = not chunk
            self.buffer += chunk
        line, newline, self.buffer = self.buffer.partition(b"\n")
        return (line + newline).decode("utf-8", "replace")

    async def _readable(self) -> None:
        assert self.fd is not None
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        try:
            loop.add_reader(self.fd, lambda: ready.done() or ready.set_result(None))
        except PermissionError:
            return  # a regular file: epoll cannot watch it, and reading it does not wait
        try:
            await ready
        finally:
            loop.remove_reader(self.fd)


@contextmanager
def _no_echo(stream: IO[str]) -> Iterator[None]:
    """The terminal does not echo what is typed (a secret), and echoes again afterwards."""
    import termios

    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    quiet = list(saved)
    quiet[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSAFLUSH, quiet)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, saved)


def _text(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."
