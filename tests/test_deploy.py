"""The deployment recipes validate against their schemas and agree with the supervisor."""

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from supervisor.core.durations import parse_duration
from tests.helpers import clean_env, supervisor_argv

ROOT = Path(__file__).resolve().parent.parent
KUBE = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.31.0"
HEALTH_PATHS = ("/livez", "/healthz", "/readyz")


def manifests() -> list[Path]:
    kustomization = yaml.safe_load((KUBE / "kustomization.yaml").read_text())
    return [KUBE / name for name in kustomization["resources"]]


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(doc["spec"]["template"]["spec"]["containers"])


def test_kustomization_lists_every_manifest() -> None:
    listed = {p.name for p in manifests()}
    assert listed == {p.name for p in KUBE.glob("*.yaml")} - {"kustomization.yaml"}


@pytest.mark.parametrize("manifest", manifests(), ids=lambda p: p.name)
def test_manifests_validate_strictly(manifest: Path) -> None:
    exe = shutil.which("kubernetes-validate") or pytest.fail("kubernetes-validate comes with the test extra")
    r = subprocess.run(
        [exe, "--strict", "-k", KUBERNETES_VERSION, str(manifest)], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stdout + r.stderr


def deployment() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((KUBE / "deployment.yaml").read_text())
    return doc


def env_of(container: dict[str, Any]) -> dict[str, str]:
    """The container's environment, with every Secret reference given a sample value."""
    samples = {
        "database-url": "postgresql://app:pw@db:5432/app",
        "redis-url": "redis://cache:6379/0",
        "secret-key": "x" * 50,
    }
    env = {}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            env[item["name"]] = samples[item["valueFrom"]["secretKeyRef"]["key"]]
    return env


def test_probes_are_on_the_health_port_and_its_paths() -> None:
    web = containers(deployment())[0]
    env = env_of(web)
    health = int(env.get("SUPERVISOR_HEALTH_PORT", "8081"))
    ports = {p["name"]: p["containerPort"] for p in web["ports"]}
    for probe in ("livenessProbe", "readinessProbe"):
        get = web[probe]["httpGet"]
        port = ports[get["port"]] if isinstance(get["port"], str) else get["port"]
        assert port == health, probe
        assert get["path"] in HEALTH_PATHS, probe
    assert web["livenessProbe"]["httpGet"]["path"] != "/readyz"  # liveness never depends on the database


def test_the_grace_period_exceeds_drain_and_stop_timeout() -> None:
    spec = deployment()["spec"]["template"]["spec"]
    env = env_of(spec["containers"][0])
    drain = parse_duration(env.get("SUPERVISOR_DRAIN_DELAY", "0.001"))
    stop = parse_duration(env.get("SUPERVISOR_STOP_TIMEOUT", "30s"))
    assert drain >= 5, "cover endpoint propagation"
    assert spec["terminationGracePeriodSeconds"] >= drain + stop + 5


@pytest.mark.parametrize("manifest", ["deployment.yaml", "migrate-job.yaml"])
def test_every_supervisor_variable_is_accepted_by_supervisor_config(manifest: str) -> None:
    doc = yaml.safe_load((KUBE / manifest).read_text())
    for container in containers(doc):
        env = env_of(container)
        r = subprocess.run(
            [*supervisor_argv(), "config"], env=clean_env(**env), capture_output=True, text=True, timeout=60
        )
        assert r.returncode == 0 and "warning" not in r.stderr, r.stderr


def test_the_migration_job_waits_with_the_supervisor() -> None:
    doc = yaml.safe_load((KUBE / "migrate-job.yaml").read_text())
    command = containers(doc)[0]["command"]
    assert command[:2] == ["/opt/supervisor/bin/supervisor", "wait"]
    cut = command.index("--")
    r = subprocess.run(  # the same arguments, against nothing: refused or timed out, never a usage error
        [*supervisor_argv(), *command[1:cut], "--timeout", "200ms"],
        env=clean_env(DATABASE_URL="postgresql://app@127.0.0.1:1/app"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 124, r.stderr


def test_compose_file_validates_against_the_compose_spec() -> None:
    exe = shutil.which("check-jsonschema") or pytest.fail("check-jsonschema comes with the test extra")
    r = subprocess.run(
        [exe, "--builtin-schema", "vendor.compose-spec", str(ROOT / "deploy" / "compose.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_compose_waits_for_readiness_where_a_service_depends_on_it() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    for name, service in compose["services"].items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            if condition.get("condition") == "service_healthy" and dependency == "web":
                assert compose["services"]["web"]["healthcheck"]["test"][-1] == "ready", name


def test_the_ci_workflow_validates_against_the_github_workflow_schema() -> None:
    exe = shutil.which("check-jsonschema") or pytest.fail("check-jsonschema comes with the test extra")
    r = subprocess.run(
        [exe, "--builtin-schema", "vendor.github-workflows", str(ROOT / "deploy" / "ci" / "github-actions.yml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
