"""The Kubernetes overlays, rendered once per test session for test_k8s*.py."""

from __future__ import annotations

import pytest
from k8s_manifests import K8S_DIR, OVERLAYS, Obj, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Obj]]:
    return {overlay: render(K8S_DIR / overlay) for overlay in OVERLAYS}
