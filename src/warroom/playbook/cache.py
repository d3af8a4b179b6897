"""A start-up cache for the compiled matcher, keyed by all that built it: `warroom scan`'s
(by the playbook files), and the console's and `warroom check`'s (by the playbooks loaded);
and for the loaded playbooks themselves (`cached_catalog`, by the playbook files).

Loading the playbooks (YAML, every check) and compiling the matcher (literal extraction,
Hyperscan) take most of a second; a scan of a few lines should not. The matcher, with its
playbooks and the problems met loading them, is pickled in the XDG cache directory under
a key made of every playbook file's bytes and the directories they came from, the
engine's own code and native libraries, the Python version and the working directory
(the problems and symptoms name files relative to it). A cache file that is missing,
truncated, stale, or not the user's alone is rebuilt without a word.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

from warroom import __version__
from warroom.playbook.catalog import Catalog, files_in, layers, load_catalog
from warroom.playbook.hsprefilter import HyperscanPrefilter
from warroom.playbook.matcher import Matcher
from warroom.playbook.model import Playbook

T = TypeVar("T")

FORMAT = b"warroom-scan-cache 1\n"
SLOTS = 8  # cache files kept (one per engine, working directory and playbook dirs)
_DIGEST = hashlib.sha256().digest_size


def cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("warroom")) / "scan"


@dataclass(frozen=True)
class ScanCache:
    """One cache file and the key of the playbooks as they were when it was looked up; `build`
    makes the matcher (and the problems met loading its playbooks) when the file does not hold it."""

    path: Path
    key: bytes
    build: Callable[[], tuple[Matcher, list[str]]]

    @classmethod
    def of(cls, cli_dirs: Sequence[str] = (), engine: str = "auto",
           directory: Path | None = None) -> ScanCache:
        """`scan`'s slot: one per engine, working directory and playbook dirs, keyed by the files."""
        dirs = layers(cli_dirs)
        path = _slot(directory, "slot", engine, os.getcwd(), *dirs)
        return cls(path, _key(dirs, engine), partial(_build, tuple(cli_dirs), engine))

    @classmethod
    def of_playbooks(cls, playbooks: Iterable[Playbook], engine: str = "auto",
                     directory: Path | None = None) -> ScanCache:
        """The slot of playbooks already loaded (the console's, handed to its tail child),
        keyed by their content."""
        listed = list(playbooks)
        h = _engine_hash(engine)
        h.update(pickle.dumps(listed, protocol=pickle.HIGHEST_PROTOCOL))
        key = h.digest()
        path = _slot(directory, "catalog", engine, key)
        return cls(path, key, partial(_compile, listed, engine))

    def load(self) -> tuple[Matcher, list[str]]:
        """The matcher and the problems met loading its playbooks, one line each: from the
        cache when it still matches, else built and cached."""
        return _through(self.path, self.key, lambda held: isinstance(held, tuple) and len(held) == 2,
                        self.build)

    def keep_tuned(self, matcher: Matcher, problems: list[str]) -> None:
        """Cache `matcher` again if a scan re-tuned its prefilter to the input (`settle`):
        the next scan of like logs then finds its automata compiled. It goes under the key
        it was loaded with: playbooks edited meanwhile make the next scan rebuild."""
        prefilter = matcher.prefilter
        if isinstance(prefilter, HyperscanPrefilter) and prefilter.settle():
            _write(self.path, self.key, (matcher, problems))


def scan_matcher(cli_dirs: Sequence[str] = (), engine: str = "auto",
                 directory: Path | None = None) -> tuple[Matcher, list[str]]:
    """`ScanCache.load` for these playbook dirs and engine."""
    return ScanCache.of(cli_dirs, engine, directory).load()


def catalog_matcher(playbooks: Iterable[Playbook], engine: str = "auto",
                    directory: Path | None = None) -> Matcher:
    """The matcher for playbooks already loaded, cached under their content: a console
    started again compiles nothing."""
    return ScanCache.of_playbooks(playbooks, engine, directory).load()[0]


def cached_catalog(cli_dirs: Sequence[str] = (), directory: Path | None = None) -> Catalog:
    """`load_catalog(cli_dirs)`, from the cache while the playbook files are as they were:
    every command that loads the playbooks then skips the YAML, the RE2 compiles, the
    examples and the literal extraction (over a second for the built-in catalog)."""
    dirs = layers(cli_dirs)
    return _through(_slot(directory, "slot", "catalog", os.getcwd(), *dirs), _key(dirs, "catalog"),
                    lambda held: isinstance(held, Catalog), partial(load_catalog, cli_dirs))


def _through(path: Path, key: bytes, usable: Callable[[object], bool], build: Callable[[], T]) -> T:
    """What the cache file holds under `key` if `usable`, else `build()`, written there."""
    cached = _read(path, key)
    if usable(cached):
        return cached  # type: ignore[return-value]  # `usable` checked its type
    built = build()
    _write(path, key, built)
    return built


def _compile(playbooks: list[Playbook], engine: str) -> tuple[Matcher, list[str]]:
    return Matcher(playbooks, engine=engine), []


def _build(cli_dirs: Sequence[str], engine: str) -> tuple[Matcher, list[str]]:
    catalog = load_catalog(cli_dirs)
    return Matcher(catalog, engine=engine), [str(problem) for problem in catalog.problems]


def _slot(directory: Path | None, *parts: object) -> Path:
    """The cache file named by `parts`, in `directory` or the user's cache directory."""
    return (directory or cache_dir()) / f"{_digest(*parts).hex()[:16]}.pickle"


def _digest(*parts: object) -> bytes:
    h = hashlib.sha256()
    for part in parts:
        h.update(str(part).encode("utf-8", "surrogateescape") + b"\0")
    return h.digest()


def _engine_hash(engine: str) -> hashlib._Hash:
    """A hash begun with all a cached matcher depends on besides its playbooks."""
    code, versions = _engine()
    h = hashlib.sha256(_digest(FORMAT, __version__, sys.version, *versions, engine, os.getcwd()))
    for source in code:
        st = source.stat()
        h.update(_digest(source, st.st_size, st.st_mtime_ns))
    return h


def _key(dirs: list[Path], engine: str) -> bytes:
    """Everything the cached matcher depends on, hashed."""
    h = _engine_hash(engine)
    for directory in dirs:
        h.update(_digest("layer", directory, directory.is_dir()))
        for path in files_in([directory]) if directory.is_dir() else ():
            try:
                data = path.read_bytes()
            except OSError as exc:  # the loader reports it; the key only notes the state
                data = f"unreadable: {exc.errno}".encode()
            h.update(_digest(path, len(data)))
            h.update(data)
    return h.digest()


def _engine() -> tuple[list[Path], list[str]]:
    """The code whose objects the cache holds and the native matchers' libraries, and the
    latter's versions: an upgrade, or an edit in a checkout, makes a new key."""
    import re2._re2

    code = [*sorted(Path(__file__).parent.glob("*.py")), Path(str(re2._re2.__file__))]
    try:
        import hyperscan._hs_ext
    except ImportError:
        return code, ["no hyperscan"]
    return [*code, Path(str(hyperscan._hs_ext.__file__))], [f"hyperscan {hyperscan.__version__}"]


def _read(path: Path, key: bytes) -> object:
    """What the cache file holds under `key`, or None."""
    try:
        with open(path, "rb", opener=lambda p, flags: os.open(p, flags | os.O_NOFOLLOW)) as file:
            st = os.fstat(file.fileno())
            # Unpickling runs code: only a file no one else could have written is read.
            if st.st_uid != os.getuid() or st.st_mode & 0o077:
                return None
            data = file.read()
    except OSError:  # none yet, a symlink, a directory...
        return None
    head = len(FORMAT) + 2 * _DIGEST
    payload = data[head:]
    if data[:head] != FORMAT + key + hashlib.sha256(payload).digest():
        return None
    try:
        return pickle.loads(payload)  # noqa: S301 - our own file, checked above
    except Exception:  # noqa: BLE001 - whatever a broken cache raises, it is rebuilt
        return None


def _write(path: Path, key: bytes, built: object) -> None:
    """Write the cache atomically, mode 0600; a cache that cannot be written is skipped."""
    import tempfile

    payload = pickle.dumps(built, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(FORMAT + key + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        _prune(path.parent)
    except OSError:
        return


def _prune(directory: Path) -> None:
    """Keep the SLOTS most recently built cache files."""
    built = sorted(directory.glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in built[SLOTS:]:
        old.unlink(missing_ok=True)
