"""Client side of the world-control endpoint (`emulation.py` serves it inside the server)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

CONTROL_PATH = "/_warroom/world"


def post(url: str, action: str, **payload: Any) -> dict[str, Any]:
    """Ask the server to emulate a state moto cannot produce (failed stacks, builds, ...)."""
    data = json.dumps({"action": action, **payload}).encode()
    request = urllib.request.Request(url + CONTROL_PATH, data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
        return json.loads(response.read() or b"{}")
