"""A fresh clone installs what was tested: requirements.lock pins every package with its hashes, it
satisfies pyproject.toml, and the environment the tests run in holds exactly the locked versions."""

import re
import sysconfig
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
EXTRAS = ("dev", "server", "voice", "cluster")  # what scripts/install.sh installs
BUILT_HERE = {"llama-cpp-python"}  # built from its sdist by scripts/install.sh, pinned there
ENTRY = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)"
                   r"\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$")


def locked_entries() -> list[tuple[str, Version, Marker | None, list[str]]]:
    """(name, version, marker, hashes) for each package in the lock."""
    entries: list[tuple[str, Version, Marker | None, list[str]]] = []
    for line in LOCK.read_text().splitlines():
        if match := ENTRY.match(line):
            marker = Marker(match["marker"]) if match["marker"] else None
            entries.append((canonicalize_name(match["name"]), Version(match["version"]), marker, []))
        elif hash_ := re.match(r"^\s+--hash=sha256:([0-9a-f]{64})", line):
            entries[-1][3].append(hash_[1])
    return entries


def locked_here() -> dict[str, Version]:
    """The locked version of each package that applies to this interpreter and platform."""
    return {name: version for name, version, marker, _ in locked_entries()
            if marker is None or marker.evaluate()}


def required() -> list[Requirement]:
    extras = PYPROJECT["project"]["optional-dependencies"]
    tools = (ROOT / "scripts" / "lock-tools.in").read_text().splitlines()
    lines = [*PYPROJECT["project"]["dependencies"], *(r for e in EXTRAS for r in extras[e]),
             *(t for t in tools if t.strip() and not t.startswith("#"))]
    return [Requirement(line) for line in lines]


def test_every_line_of_the_lock_is_a_hash_pinned_package():
    entries = locked_entries()
    assert len(entries) > 50
    packages = [line for line in LOCK.read_text().splitlines() if re.match(r"^[A-Za-z0-9]", line)]
    assert len(packages) == len(entries), "a package line that is not name==version"
    assert all(hashes for *_, hashes in entries), [name for name, *_, hashes in entries if not hashes]


def test_the_lock_satisfies_pyproject_and_its_extras():
    here = locked_here()

    def met(requirement: Requirement) -> bool:
        version = here.get(canonicalize_name(requirement.name))
        return version is not None and requirement.specifier.contains(version, prereleases=True)

    applying = [r for r in required() if canonicalize_name(r.name) not in BUILT_HERE
                and (r.marker is None or r.marker.evaluate())]
    assert len(applying) > 20 and [str(r) for r in applying if not met(r)] == [], "run `make lock`"


def test_llama_cpp_python_is_the_same_release_in_pyproject_and_the_install_script():
    [pin] = [r for r in required() if canonicalize_name(r.name) == "llama-cpp-python"]
    script = (ROOT / "scripts" / "install.sh").read_text()
    version = re.search(r"^LLAMA_VERSION=(\S+)$", script, re.M)
    sdist_hash = re.search(r"^LLAMA_SHA256=([0-9a-f]{64})\b", script, re.M)
    assert version and sdist_hash and str(pin.specifier) == f"=={version[1]}"
    assert "llama-cpp-python" not in locked_here()


def test_the_environment_holds_exactly_the_locked_versions():
    if not (ROOT / ".venv" / ".tutor-install").exists():
        pytest.skip("this environment was not made by scripts/install.sh")
    # .venv's own packages: an imported `ray` puts its vendored copies (psutil, colorama) on
    # sys.path, which are part of ray's wheel, not installed packages
    site = {sysconfig.get_paths()[kind] for kind in ("purelib", "platlib")}
    installed = {canonicalize_name(d.metadata["Name"]): Version(d.version)
                 for d in metadata.distributions(path=sorted(site))}
    expected = locked_here()
    assert {n: v for n, v in installed.items() if n in expected} == expected
    extra = set(installed) - set(expected) - BUILT_HERE - {"tutor"}
    assert extra == set(), f"installed but not locked: {sorted(extra)}"
