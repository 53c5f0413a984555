"""The environment is described once, pinned, and the same for make users and conda users."""

from __future__ import annotations

from importlib import metadata

import yaml

from observatoire.core import paths


def _lock() -> dict[str, str]:
    pins = {}
    for line in (paths.ROOT / "requirements.lock.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_every_requirement_is_pinned_exactly():
    for line in (paths.ROOT / "requirements.lock.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            assert "==" in line, f"not pinned: {line}"


def test_environment_yml_matches_the_lock_file():
    document = yaml.safe_load((paths.ROOT / "environment.yml").read_text(encoding="utf-8"))
    deps = document["dependencies"]
    assert "python=3.11" in deps
    assert "quarto>=1.10" in deps, "conda users get Quarto (1.10 or newer) from conda-forge"
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    from_env = {}
    for line in pip_section:
        name, version = line.split("==")
        from_env[name.lower().replace("_", "-")] = version
    assert from_env == _lock()


def test_installed_versions_are_the_pinned_ones():
    for name, version in _lock().items():
        assert metadata.version(name) == version, name
