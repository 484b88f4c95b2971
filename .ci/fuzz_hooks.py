"""Schemathesis hooks for .ci/fuzz: the one body format it does not know, and real
resource names, so the authenticated writes reach validation instead of a 404."""

import json
from typing import Any

import schemathesis

RESOURCES = ["statements", "people", "treaties", "events", "limits", "sources", "countries"]
KEYS = ["lavrov-2020-11-12-wait-until-the-dust-settles", "sergei-lavrov", "new-start"]


@schemathesis.serializer("application/x-ndjson")
def ndjson(_ctx: Any, value: Any) -> bytes:
    """POST /v1/imports takes NDJSON lines of {"resource": ..., "record": {...}}."""
    lines = value if isinstance(value, list) else [value]
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


@schemathesis.hook
def map_path_parameters(_ctx: Any, path: dict[str, Any] | None) -> dict[str, Any] | None:
    if path and "resource" in path:
        seed = sum(map(ord, str(path["resource"])))
        path["resource"] = RESOURCES[seed % len(RESOURCES)]
        if "key" in path and seed % 2:
            path["key"] = KEYS[seed % len(KEYS)]
    return path
