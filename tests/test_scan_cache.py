"""The start-up cache of `warroom scan`: what it holds behaves as freshly built, and a
broken, stale or foreign cache file is rebuilt without a word."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from tests.corpus import symptom_samples
from tests.playbook_yaml import playbook_yaml
from warroom.cli import command_in
from warroom.playbook import cache
from warroom.playbook.catalog import load_catalog
from warroom.playbook.linear import Regex
from warroom.playbook.matcher import Matcher

TIMEOUT_LINE = "2024-05-01T10:15:32Z 3f9c Task timed out after 30.03 seconds"


def user_playbook(directory: Path, pid: str, pattern: str, priority: int = 50) -> Path:
    path = directory / f"{pid}.yaml"
    path.write_text(playbook_yaml(pid, f"""
        - pattern: '{pattern}'
          priority: {priority}
        """))
    return path


class Builds:
    """Counts how often the cache had to build the matcher."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = cache._build

        def counted(*args: object) -> object:
            self.count += 1
            return real(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(cache, "_build", counted)


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Builds:
    return Builds(monkeypatch)


def only_file(directory: Path) -> Path:
    (path,) = directory.glob("*.pickle")
    return path


def test_warm_cache_matches_as_built(tmp_path: Path, builds: Builds) -> None:
    cold, _ = cache.scan_matcher(directory=tmp_path)
    warm, problems = cache.scan_matcher(directory=tmp_path)
    assert builds.count == 1 and problems == []
    assert warm is not cold and warm.engine == cold.engine
    lines = [s.line for s in symptom_samples()]
    assert lines
    data = "\n".join(lines).encode()
    assert list(warm.scan(data)) == list(cold.scan(data))
    assert warm.match_many(lines) == cold.match_many(lines)
    assert warm.match(TIMEOUT_LINE)[0].captures == {"timeout": "30.03"}


def test_cache_file_is_private_and_written_whole(tmp_path: Path, builds: Builds) -> None:
    cache.scan_matcher(directory=tmp_path / "scan")
    path = only_file(tmp_path / "scan")
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_truncated_cache_is_rebuilt(tmp_path: Path, builds: Builds) -> None:
    cache.scan_matcher(directory=tmp_path)
    path = only_file(tmp_path)
    whole = path.read_bytes()
    for cut in (len(whole) // 2, len(cache.FORMAT) + 10, 0):
        path.write_bytes(whole[:cut])
        matcher, _ = cache.scan_matcher(directory=tmp_path)
        assert matcher.match(TIMEOUT_LINE)[0].playbook == "lambda-timeout"
    assert builds.count == 4
    cache.scan_matcher(directory=tmp_path)  # the rebuilt file is whole again
    assert builds.count == 4


def test_corrupt_payload_is_rebuilt(tmp_path: Path, builds: Builds) -> None:
    cache.scan_matcher(directory=tmp_path)
    path = only_file(tmp_path)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    cache.scan_matcher(directory=tmp_path)
    assert builds.count == 2


def test_a_file_others_could_write_is_not_read(tmp_path: Path, builds: Builds) -> None:
    cache.scan_matcher(directory=tmp_path)
    path = only_file(tmp_path)
    path.chmod(0o620)
    cache.scan_matcher(directory=tmp_path)
    assert builds.count == 2
    assert path.stat().st_mode & 0o777 == 0o600  # replaced by a private one


def test_changed_user_playbook_is_seen(tmp_path: Path, builds: Builds,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    user_playbook(mine, "zorb-broken", "zorblax failed")
    where = tmp_path / "cache"
    first, _ = cache.scan_matcher([str(mine)], directory=where)
    assert first.match("the zorblax failed")[0].playbook == "zorb-broken"
    user_playbook(mine, "zorb-broken", "zorblax exploded")
    second, _ = cache.scan_matcher([str(mine)], directory=where)
    assert builds.count == 2
    assert second.match("the zorblax failed") == []
    assert second.match("the zorblax exploded")[0].playbook == "zorb-broken"
    # A new file in a user directory given by the environment counts as well.
    monkeypatch.setenv("WARROOM_PLAYBOOKS", str(tmp_path / "env"))
    (tmp_path / "env").mkdir()
    cache.scan_matcher([str(mine)], directory=where)
    user_playbook(tmp_path / "env", "zorb-env", "zorblax vanished")
    third, _ = cache.scan_matcher([str(mine)], directory=where)
    assert builds.count == 4
    assert third.match("zorblax vanished")[0].playbook == "zorb-env"


def test_another_engine_version_rebuilds(tmp_path: Path, builds: Builds,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    cache.scan_matcher(directory=tmp_path)
    real = cache._engine
    monkeypatch.setattr(cache, "_engine", lambda: (real()[0], ["hyperscan 99.0"]))
    cache.scan_matcher(directory=tmp_path)
    monkeypatch.setattr(cache, "__version__", "99.0.0")
    cache.scan_matcher(directory=tmp_path)
    cache.scan_matcher(directory=tmp_path)
    assert builds.count == 3
    assert len(list(tmp_path.glob("*.pickle"))) == 1  # the same slot, replaced


def test_problems_are_kept_with_the_cache(tmp_path: Path, builds: Builds) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "bad.yaml").write_text("id: bad\ntitle: [\n")
    first = cache.scan_matcher([str(tmp_path / "mine")], directory=tmp_path / "c")[1]
    second = cache.scan_matcher([str(tmp_path / "mine")], directory=tmp_path / "c")[1]
    assert builds.count == 1
    assert first == second and "bad.yaml:" in first[0] and "YAML syntax" in first[0]


def test_slots_are_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "SLOTS", 2)
    for name in "abc":
        (tmp_path / name).mkdir()
        cache.scan_matcher([str(tmp_path / name)], engine="python", directory=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("*.pickle"))) == 2


def test_unwritable_cache_still_scans(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    matcher, _ = cache.scan_matcher(directory=blocked / "scan")
    assert matcher.match(TIMEOUT_LINE)


def test_unpickled_regex_compiles_when_first_used() -> None:
    regex = pickle.loads(pickle.dumps(Regex(r"took (?P<ms>\d+) ms", ignore_case=True)))
    assert regex.search("TOOK 12 MS").groupdict() == {"ms": "12"}
    fresh = pickle.loads(pickle.dumps(Regex(r"(?P<a>x)(?P<b>y)")))
    assert fresh.groupindex == {"a": 1, "b": 2}
    assert fresh.fullmatch("xy") is not None and fresh.fullmatch("xyz") is None


@pytest.mark.parametrize("engine", ["hyperscan", "python"])
def test_prefilters_survive_pickling(engine: str) -> None:
    if engine == "hyperscan":
        pytest.importorskip("hyperscan")
    built = Matcher(load_catalog(), engine=engine)
    copy = pickle.loads(pickle.dumps(built))
    assert copy.engine == engine
    lines = [s.line for s in symptom_samples()][:400]
    assert copy.match_many(lines) == built.match_many(lines)
    assert [copy.match(line) for line in lines[:50]] == [built.match(line) for line in lines[:50]]


def test_warm_scan_imports_neither_yaml_nor_other_commands(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text(f"x\n{TIMEOUT_LINE}\n")
    probe = ("import sys, contextlib, io\nfrom warroom.cli import main\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n"
             f"    code = main(['scan', {str(log)!r}])\n"
             "print(code, sorted(m for m in ('yaml', 'asyncio', 'warroom.playbook.loader', "
             "'warroom.commands.check') if m in sys.modules))")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    cold = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    warm = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert cold.stdout.strip() == "0 ['warroom.playbook.loader', 'yaml']"  # built: the loader ran
    assert warm.stdout.strip() == "0 []"


@pytest.mark.parametrize(("argv", "command"), [
    (["scan", "x.log"], "scan"),
    (["--region", "eu-west-1", "--read-only", "scan"], "scan"),
    (["--profile=prod", "check", "--json"], "check"),
    (["--playbooks", "scan", "fix"], "fix"),
    ([], None), (["--help", "scan"], None), (["--region", "x"], None), (["--version"], None),
])
def test_command_in(argv: list[str], command: str | None) -> None:
    assert command_in(argv) == command


def test_a_symlink_or_directory_in_the_way_is_replaced(tmp_path: Path, builds: Builds) -> None:
    cache.scan_matcher(directory=tmp_path)
    path = only_file(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    path.rename(elsewhere)
    path.symlink_to(elsewhere)
    cache.scan_matcher(directory=tmp_path)
    assert builds.count == 2 and not path.is_symlink()
    path.unlink()
    path.mkdir()
    matcher, _ = cache.scan_matcher(directory=tmp_path)  # cannot be written either: still scans
    assert builds.count == 3 and matcher.match(TIMEOUT_LINE)


def test_a_scan_that_tuned_the_prefilter_is_cached_tuned(tmp_path: Path, builds: Builds,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("hyperscan")
    slot = cache.ScanCache.of(directory=tmp_path)
    matcher, problems = slot.load()
    slot.keep_tuned(matcher, problems)  # nothing tuned: nothing written
    written = only_file(tmp_path).stat().st_mtime_ns
    rows = [f"REPORT RequestId: {n:08x}\tDuration: 2.5 ms\tBilled Duration: 3 ms\tMemory Size: 512 MB\t"
            f"Max Memory Used: 97 MB\tInit Duration: {n % 900}.1 ms" for n in range(2000)]
    log = "\n".join([*rows, TIMEOUT_LINE]).encode()
    found = [m.playbook for _, _, ms in matcher.scan(log) for m in ms]
    assert matcher.prefilter.retuned and "lambda-timeout" in found
    slot.keep_tuned(matcher, problems)
    assert only_file(tmp_path).stat().st_mtime_ns != written

    warm, _ = cache.scan_matcher(directory=tmp_path)
    assert builds.count == 1
    compiled: list[object] = []
    real = warm.prefilter._compile  # type: ignore[attr-defined]
    monkeypatch.setattr(warm.prefilter, "_compile", lambda *a, **k: compiled.append(a) or real(*a, **k))
    assert [m.playbook for _, _, ms in warm.scan(log) for m in ms] == found
    assert warm.match(TIMEOUT_LINE)[0].playbook == "lambda-timeout"  # the single-line automaton
    assert compiled == [] and not warm.prefilter.retuned  # type: ignore[attr-defined]


def test_a_loaded_catalog_is_compiled_once_and_by_its_content(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The console's tail child gets playbooks, not directories: the matcher it compiles is
    cached under their content, so a console started again compiles nothing."""
    compiled: list[int] = []

    def counted(playbooks: list[object], engine: str = "auto") -> Matcher:
        compiled.append(len(playbooks))
        return Matcher(playbooks, engine=engine)  # type: ignore[arg-type]

    monkeypatch.setattr(cache, "Matcher", counted)
    playbooks = list(load_catalog())
    cold = cache.catalog_matcher(playbooks, directory=tmp_path)
    warm = cache.catalog_matcher(list(load_catalog()), directory=tmp_path)
    assert compiled == [len(playbooks)] and warm is not cold
    lines = [s.line for s in symptom_samples()]
    assert warm.match_many(lines) == cold.match_many(lines)
    fewer = [p for p in playbooks if p.id != "lambda-timeout"]
    assert not cache.catalog_matcher(fewer, directory=tmp_path).match(TIMEOUT_LINE)
    assert compiled == [len(playbooks), len(fewer)]


def test_cached_playbooks_keep_every_field() -> None:
    # The model's dataclasses unpickle through their own __setstate__ (model.unpickled_fast):
    # every field must come back in its place, for every kind of object a playbook holds.
    playbooks = list(load_catalog())
    back = pickle.loads(pickle.dumps(playbooks))
    for before, after in zip(playbooks, back, strict=True):
        assert (after.id, after.params, after.diagnose, after.fix, after.sources) == (
            before.id, before.params, before.diagnose, before.fix, before.sources)
        for one, two in zip(before.text_symptoms, after.text_symptoms, strict=True):
            assert (two.pattern, two.priority, two.where, two.ignore_case, two.log_groups, two.compare) == (
                one.pattern, one.priority, one.where, one.ignore_case, one.log_groups, one.compare)


def test_the_loaded_playbooks_are_cached_by_their_files(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command that loads the playbooks (check, tail, fix, the console) reads them
    from the cache while the files are unchanged, with the problems met loading them."""
    loads: list[tuple[str, ...]] = []

    def counted(cli_dirs: tuple[str, ...] = ()) -> object:
        loads.append(tuple(cli_dirs))
        return load_catalog(cli_dirs)

    monkeypatch.setattr(cache, "load_catalog", counted)
    mine = tmp_path / "mine"
    mine.mkdir()
    user_playbook(mine, "zorb-broken", "zorblax failed")
    (mine / "bad.yaml").write_text("id: bad\ntitle: [\n")
    where = tmp_path / "cache"
    cold = cache.cached_catalog([str(mine)], directory=where)
    warm = cache.cached_catalog([str(mine)], directory=where)
    assert loads == [(str(mine),)] and warm is not cold
    assert [p.id for p in warm] == [p.id for p in cold] and "lambda-timeout" in [p.id for p in warm]
    assert [str(p) for p in warm.problems] == [str(p) for p in cold.problems]
    assert "bad.yaml:" in str(warm.problems[0]) and "YAML syntax" in str(warm.problems[0])
    symptom = warm.playbooks["zorb-broken"].text_symptoms[0]
    assert symptom.search("the zorblax failed") is not None  # its regex compiles when first used
    user_playbook(mine, "zorb-broken", "zorblax exploded")
    edited = cache.cached_catalog([str(mine)], directory=where)
    assert len(loads) == 2
    assert edited.playbooks["zorb-broken"].text_symptoms[0].search("the zorblax exploded") is not None

