"""The README's first commands are the ones CI and users run."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_opens_with_the_demo_and_test_commands() -> None:
    blocks = ROOT.joinpath("README.md").read_text(encoding="utf-8").split("```sh\n")
    demo, tests = blocks[1].split("\n")[0], blocks[2].split("\n")[0]
    assert demo.endswith("warroom demo")
    assert "pip install '.[test]'" in tests and tests.endswith("pytest -n 2")
    assert "readme_test_command" in ROOT.joinpath(".ci/run").read_text()
