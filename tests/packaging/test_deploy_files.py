"""The container, compose, Kubernetes and systemd files say only what the bot really offers.

Docker isn't available here, so the image is checked the next best way: its ENTRYPOINT + CMD,
ENV and HEALTHCHECK are read from the Dockerfile and run, exactly as written, against a plain
install in a clean environment and the sandbox. Every command the files run must parse with the
real CLI, and every variable they set must be documented (README, and CONTRACT.md when present).
"""

from __future__ import annotations

import json
import re
import shlex
import signal
import socket
import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from core.config import parse_config
from sandbox import Sandbox
from wiring.cli import _parser

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT.parent / "shared" / "CONTRACT.md"
KUBE = ROOT / "deploy" / "kubernetes"
SYSTEMD = ROOT / "deploy" / "systemd" / "checkin-coach.service"
# Set by the image or the platform for Python itself, not read by the bot.
NOT_OURS = {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "POSTGRES_USER", "POSTGRES_PASSWORD",
            "POSTGRES_DB"}
# Variables this branch adds; the coordinator is adding them to CONTRACT.md. Drop once it has them.
PENDING_CONTRACT = {"METRICS_PORT", "LOG_FORMAT", "SLACK_DEBUG"}
Installed = tuple[Path, dict[str, str], Path]


# ---- reading the files -----------------------------------------------------------------------
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def docker_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in dockerfile():
        if word == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def docker_json(instruction: str) -> list[str]:
    [rest] = [rest for word, rest in dockerfile() if word == instruction]
    if instruction == "HEALTHCHECK":
        rest = rest[rest.index("CMD ") + 4:]
    value = json.loads(rest)
    assert isinstance(value, list), f"{instruction} must use the exec (JSON) form"
    return [str(v) for v in value]


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def kube() -> list[dict[str, Any]]:
    return [doc for path in sorted(KUBE.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def kube_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in kube() if doc["kind"] == kind]


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return doc["spec"]["template"]["spec"]


def systemd() -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {}
    for line in SYSTEMD.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            keys.setdefault(key.strip(), []).append(value.strip())
    return keys


def cli_args(argv: list[str]) -> list[str]:
    """The arguments after the `checkin-bot` program itself."""
    assert Path(argv[0]).name == "checkin-bot", argv
    return argv[1:]


def every_command() -> list[list[str]]:
    commands = [docker_json("CMD"), compose()["services"]["bot"]["command"]]
    for doc in kube_kind("Deployment") + kube_kind("CronJob"):
        spec = pod_spec(doc)
        commands += [c["args"] for c in spec.get("initContainers", []) + spec["containers"]]
    for key in ("ExecStartPre", "ExecStart"):
        commands += [cli_args(shlex.split(value)) for value in systemd().get(key, [])]
    return commands


def every_variable() -> set[str]:
    names = set(docker_env()) | set(compose()["services"]["bot"]["environment"])
    for doc in kube_kind("Secret"):
        names |= set(doc["stringData"])
    for doc in kube_kind("ConfigMap"):
        names |= {k for k in doc["data"] if k.isupper()}
    for doc in kube_kind("Deployment") + kube_kind("CronJob"):
        for container in pod_spec(doc)["containers"]:
            names |= {e["name"] for e in container.get("env", [])}
    names |= {v.partition("=")[0] for v in systemd().get("Environment", [])}
    return {n for n in names - NOT_OURS if not n.startswith("PIP_")}


# ---- what the files promise ------------------------------------------------------------------
def test_every_command_parses_with_the_real_cli_and_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    contract = CONTRACT.read_text() if CONTRACT.is_file() else None
    for args in every_command():
        _parser().parse_args(args)  # exits 2 on an unknown command or option
        assert f"checkin-bot {args[0]}" in readme, args
        if contract is not None:
            assert f"`{args[0]}" in contract, args
        for option in (a for a in args if a.startswith("--")):
            assert option in readme, (args, option)


def test_every_variable_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    contract = CONTRACT.read_text() if CONTRACT.is_file() else None
    for name in sorted(every_variable()):
        assert f"`{name}`" in readme, name
        if contract is not None and name not in PENDING_CONTRACT:
            assert name in contract, name


def test_the_image_is_multi_stage_slim_non_root_and_migrates_at_start_not_build() -> None:
    steps = dockerfile()
    stages = [rest for word, rest in steps if word == "FROM"]
    assert len(stages) >= 2 and all("-slim" in stage for stage in stages)
    [user] = [rest for word, rest in steps if word == "USER"]
    assert user.split(":")[0] not in ("root", "0")
    runs = " ".join(rest for word, rest in steps if word == "RUN")
    assert "requirements.lock" in runs and "--require-hashes" in runs
    assert "db upgrade" not in runs  # the database is migrated when the bot starts
    baked = " ".join(rest for word, rest in steps if word in ("ENV", "ARG"))
    assert not re.search(r"SLACK_(BOT_TOKEN|SIGNING_SECRET|APP_TOKEN)|DATABASE_URL|xox[bp]-", baked)
    assert "/healthz" in " ".join(docker_json("HEALTHCHECK"))


def test_compose_waits_for_a_healthy_database_and_mounts_the_config_read_only() -> None:
    services = compose()["services"]
    bot, db = services["bot"], services["db"]
    assert db["healthcheck"]["test"] and bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["env_file"] == ".env"
    mounts = [v for v in bot["volumes"] if v.endswith(":ro")]
    target = bot["environment"]["CHECKINS_CONFIG"]
    assert any(v.split(":")[1] == target for v in mounts)
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql://")


def test_kubernetes_probes_grace_period_cronjob_and_config() -> None:
    [deployment] = kube_kind("Deployment")
    spec = pod_spec(deployment)
    assert spec["terminationGracePeriodSeconds"] >= 30 and spec["securityContext"]["runAsNonRoot"]
    [bot] = spec["containers"]
    assert bot["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert bot["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert "--no-scheduler" in bot["args"]  # the CronJob runs the passes
    [cron] = kube_kind("CronJob")
    assert pod_spec(cron)["containers"][0]["args"] == ["dispatch"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    [secret] = kube_kind("Secret")
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DATABASE_URL"} <= set(secret["stringData"])
    [config] = kube_kind("ConfigMap")
    parse_config(config["data"]["checkins.toml"], "configmap")  # raises on a broken admin config


def test_the_systemd_unit_runs_as_a_user_and_stops_with_sigterm() -> None:
    unit = systemd()
    assert unit["User"] != ["root"] and unit["KillSignal"] == ["SIGTERM"]
    assert int(unit["TimeoutStopSec"][0]) >= 30
    assert unit["EnvironmentFile"]


# ---- the image's commands, run the way the image runs them ----------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def image_env(installed: Installed, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The Dockerfile's ENV on a clean environment, plus what compose/Kubernetes would inject."""
    exe, base_env, _ = installed
    with Sandbox.start() as sandbox:
        sandbox.add_user("U0MANAGER", name="maya")
        config = tmp_path / "checkins.toml"
        [configmap] = kube_kind("ConfigMap")
        config.write_text(configmap["data"]["checkins.toml"])  # the mounted admin config
        env = {"HOME": str(tmp_path), "LANG": "C.UTF-8", "PATH": f"{exe.parent}:/usr/bin:/bin"}
        for key, value in docker_env().items():
            env[key] = value.replace("$PATH", env["PATH"])
        env.update({"PORT": str(free_port()), "CHECKINS_CONFIG": str(config),
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'image.db'}", "SLACK_API_URL": sandbox.api_url,
                    "SLACK_BOT_TOKEN": "xoxb-image-test", "SLACK_SIGNING_SECRET": "image-test-secret"})
        yield env


@pytest.mark.slow
def test_the_image_entrypoint_serves_and_its_healthcheck_passes(image_env: dict[str, str], tmp_path: Path) -> None:
    argv = docker_json("ENTRYPOINT") + docker_json("CMD")
    log = tmp_path / "image.log"
    with log.open("w") as sink:
        process = subprocess.Popen(argv, cwd=tmp_path, env=image_env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        health = docker_json("HEALTHCHECK")
        deadline = time.monotonic() + 60
        while subprocess.run(health, env=image_env, capture_output=True, timeout=10).returncode != 0:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"the HEALTHCHECK never passed:\n{log.read_text()[-3000:]}"
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert lines, "the image logs JSON lines (LOG_FORMAT=json)"


@pytest.mark.slow
def test_the_migration_and_dispatch_jobs_run_as_written(image_env: dict[str, str], tmp_path: Path) -> None:
    [deployment], [cron] = kube_kind("Deployment"), kube_kind("CronJob")
    for container in pod_spec(deployment)["initContainers"] + pod_spec(cron)["containers"]:
        argv = docker_json("ENTRYPOINT") + container["args"]
        done = subprocess.run(argv, cwd=tmp_path, env=image_env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (argv, done.stderr[-2000:])
        assert "Traceback" not in done.stderr


def test_the_lock_file_pins_every_runtime_dependency_within_its_range() -> None:
    """The image installs only from requirements.lock: a dependency added without `make lock` is missing."""
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", line)
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    wanted = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for text in wanted:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {requirement.specifier}"
        for extra in requirement.extras:  # psycopg[binary] needs psycopg-binary pinned too
            assert canonicalize_name(f"{requirement.name}-{extra}") in pins, (name, extra)
