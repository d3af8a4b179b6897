"""Shared fixtures: one moto server per test session (a real HTTP server in a child process)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from warroom.demo.server import OFFLINE_ENV, MotoServer


@pytest.fixture(autouse=True)
def offline_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Dummy credentials and no shared config, so no test can reach a real account; and
    XDG directories of its own, so a developer's config.toml or audit trail changes nothing."""
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "WARROOM_PLAYBOOKS"):
        monkeypatch.delenv(key, raising=False)
    for key, value in OFFLINE_ENV.items():
        monkeypatch.setenv(key, value)
    home = tmp_path_factory.mktemp("aws-home")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "xdg-state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg-cache"))


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture
def moto(moto_server: MotoServer) -> Iterator[MotoServer]:
    """The shared server, empty and fault-free at the start of each test."""
    moto_server.reset()
    moto_server.faults()
    yield moto_server
    moto_server.faults()
