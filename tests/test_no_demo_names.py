"""Built-in playbooks name nothing of the demo's world; `warroom fix` asks or says what to give."""

from __future__ import annotations

from pathlib import Path

import pytest

from warroom.demo import world as w
from warroom.demo.defaults import DEFAULTS, with_demo_defaults
from warroom.playbook.catalog import load_catalog
from warroom.playbook.types import misfit

from tests.runner_support import function_timeout, seed_function
from tests.test_fix_cli import env, warroom  # noqa: F401 - the fixture is used by name

FN = "orders-api"  # a name of "the user's" account, not the demo's


def _demo_names() -> set[str]:
    """Every string constant the demo world is built from."""
    return {v for k, v in vars(w).items() if k.isupper() and isinstance(v, str) and len(v) > 3}


def test_no_builtin_default_is_a_demo_name() -> None:
    names = _demo_names()
    catalog = load_catalog([])
    found = [(p.id, q.name, q.default) for p in catalog for q in p.params
             if isinstance(q.default, str) and any(n in q.default for n in names)]
    assert found == []


def test_the_demo_catalog_offers_its_world_names_and_they_fit() -> None:
    catalog = load_catalog([])
    demo = with_demo_defaults(catalog)
    for pid, names in DEFAULTS.items():
        for name, value in names.items():
            param = demo.get(pid).param(name)  # type: ignore[union-attr]
            assert param.default == value and misfit(value, param.type, param.pattern) is None, (pid, name)
            assert catalog.get(pid).param(name).default is None  # type: ignore[union-attr]


@pytest.mark.parametrize("flag", ["--dry-run", "--yes"])
def test_fix_without_the_function_stops_with_one_line_naming_the_param(env, flag: str) -> None:  # noqa: F811
    done = warroom(env, "--region", "us-east-1", "fix", "lambda-timeout", flag)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "warroom: lambda-timeout needs function (Lambda function name): give --param function=VALUE"]


def test_fix_in_line_mode_asks_for_the_function(moto, env, tmp_path: Path) -> None:  # noqa: F811
    seed_function(moto.endpoint, FN, timeout=3)
    done = warroom(env, "fix", "lambda-timeout", stdin=f"{FN}\n90\ny\nn\nn\n", endpoint=moto.endpoint)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Lambda function name: " in done.stdout and "[bos-dev" not in done.stdout
    assert function_timeout(moto.endpoint, FN) == 90


def test_dry_run_with_the_param_plans_on_it(moto, env) -> None:  # noqa: F811
    done = warroom(env, "fix", "lambda-timeout", "--dry-run", "--param", f"function={FN}",
                   endpoint=moto.endpoint)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"--function-name {FN}" in done.stdout and "bos-dev" not in done.stdout


def test_only_the_demo_console_offers_the_demo_names() -> None:
    import argparse
    import types

    from warroom.commands.common import catalog

    settings = types.SimpleNamespace(playbook_dirs=())
    demo = catalog(argparse.Namespace(settings=settings, demo_world=True))
    plain = catalog(argparse.Namespace(settings=settings))
    assert demo.get("lambda-timeout").param("function").default == w.AGENT_PERSONA  # type: ignore[union-attr]
    assert plain.get("lambda-timeout").param("function").default is None  # type: ignore[union-attr]


def test_no_builtin_probe_names_a_demo_resource() -> None:
    names = _demo_names()
    found = [(p.id, s.probe, s.params) for p in load_catalog([]) for s in p.probe_symptoms
             if any(n in str(s.params) for n in names)]
    assert found == []


def test_a_probe_about_one_named_thing_checks_the_demo_s_in_the_demo_only() -> None:
    from warroom.aws.probes import resolve_params

    plain = load_catalog([])
    demo = with_demo_defaults(plain)
    for pid, kind, name in [("codebuild-project-not-found", "project", w.KIRO_PROJECT),
                            ("secret-not-found", "secret", w.GITHUB_TOKEN)]:
        [probe] = demo.get(pid).probe_symptoms  # type: ignore[union-attr]
        assert resolve_params(demo.get(pid), probe)[1][kind].names == (name,)  # type: ignore[arg-type]
        # A real account names none: the probe asks about nothing rather than a demo name.
        assert resolve_params(plain.get(pid), probe)[1][kind].every  # type: ignore[arg-type]
    # Probes about a condition of any resource cover every one of the kind.
    [probe] = plain.get("sns-email-not-confirmed").probe_symptoms  # type: ignore[union-attr]
    assert resolve_params(demo.get("sns-email-not-confirmed"), probe)[1]["topic"].every  # type: ignore[arg-type]
