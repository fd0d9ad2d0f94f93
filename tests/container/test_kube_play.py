"""deploy/kubernetes/deployment.yaml's pod, run for real with ``podman kube play`` on the Django
image the suite builds FROM docker/Dockerfile's.

What the test changes, and only that: the image name, the Secret references (literal values:
SQLite in the pod's /tmp emptyDir, a generated SECRET_KEY, no REDIS_URL), one replica, and
hostPorts on 127.0.0.1 so the health port is reachable. podman turns httpGet probes into curl health checks,
which do nothing in an image without curl, so the test asks /readyz itself.
"""

import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.container.engines import Podman
from tests.helpers import free_port, status_of, wait_until

pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.timeout(900)]
ROOT = Path(__file__).resolve().parents[2]


def local_pod(image: str, health: int, app: int) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "deployment.yaml").read_text())
    doc["spec"]["replicas"] = 1
    container = doc["spec"]["template"]["spec"]["containers"][0]
    container["image"] = image
    values = {"database-url": "sqlite:////tmp/db.sqlite3", "secret-key": secrets.token_urlsafe(50)}
    env = []
    for item in container["env"]:
        if "valueFrom" in item:
            key = item["valueFrom"]["secretKeyRef"]["key"]
            if key not in values:
                continue  # an optional key the Secret does not have
            item = {"name": item["name"], "value": values[key]}
        env.append(item)
    container["env"] = env
    for port in container["ports"]:
        port["hostPort"] = {"health": health, "http": app}[port["name"]]
        port["hostIP"] = "127.0.0.1"  # loopback only
    return doc


def test_the_deployments_pod_becomes_ready_under_podman_kube_play(
    podman: Podman, podman_django_image: str, tmp_path: Path
) -> None:
    health, app = free_port(), free_port()
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(yaml.safe_dump(local_pod(podman_django_image, health, app)))
    podman.run("kube", "play", str(manifest), timeout=300)
    try:
        wait_until(lambda: status_of(health, "/readyz") == 200, 120, "the pod's /readyz 200")
        assert status_of(health, "/livez") == 200
    finally:
        podman.run("kube", "down", str(manifest), check=False, timeout=120)
