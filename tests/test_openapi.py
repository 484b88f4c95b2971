"""The OpenAPI document is a product: ids, docstrings and documented parameters."""

import re

from fastapi.testclient import TestClient


def test_every_operation_is_named_and_described(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operations = [op for item in spec["paths"].values() for op in item.values()]
    assert len(operations) >= 15
    for op in operations:
        tag = op["tags"][0]
        assert re.fullmatch(rf"{tag}-[a-z-]+", op["operationId"]), op["operationId"]
        assert op.get("description") or op.get("summary"), op["operationId"]
    assert len({op["operationId"] for op in operations}) == len(operations)


def test_filters_are_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    params = spec["paths"]["/v1/statements"]["get"]["parameters"]
    documented = {p["name"] for p in params if p.get("description")}
    assert {
        "treaty",
        "speaker",
        "country",
        "article",
        "since",
        "until",
        "limit",
        "cursor",
    } <= documented


def test_dates_with_precision_are_in_the_schemas(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"said_on", "said_on_precision"} <= set(schemas["StatementPublic"]["properties"])
    assert {"date", "date_precision"} <= set(schemas["EventPublic"]["properties"])


def test_the_document_is_valid_openapi(client: TestClient) -> None:
    from openapi_spec_validator import validate

    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_errors_are_declared_as_problem_json(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, item in spec["paths"].items():
        if not path.startswith("/v1"):
            continue
        for op in item.values():
            for status in ("404", "422", "500"):
                content = op["responses"][status]["content"]
                assert "application/problem+json" in content, (path, status)


def test_every_parameter_and_field_is_described(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    params = [
        f"{path} {p['name']}"
        for path, item in spec["paths"].items()
        for op in item.values()
        for p in op.get("parameters", [])
        if not p.get("description")
    ]
    fields = [
        f"{name}.{field}"
        for name, schema in spec["components"]["schemas"].items()
        for field, prop in schema.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert (params, fields) == ([], [])


def _arrays(node: object, where: str = "") -> list[tuple[str, dict[str, object]]]:
    if isinstance(node, dict):
        found = [(where, node)] if node.get("type") == "array" else []
        return found + [x for k, v in node.items() for x in _arrays(v, f"{where}/{k}")]
    if isinstance(node, list):
        return [x for n, v in enumerate(node) for x in _arrays(v, f"{where}/{n}")]
    return []


def test_every_array_says_what_it_holds(client: TestClient) -> None:
    """Spectral's OWASP ruleset: an array schema without `items` is an error."""
    spec = client.get("/openapi.json").json()
    assert [where for where, schema in _arrays(spec) if "items" not in schema] == []


def test_a_read_asks_for_a_token_exactly_when_the_document_says_so(client: TestClient) -> None:
    """Every GET, called with no token (path parameters filled with a value that names
    nothing): 401 when the operation declares bearer security, and otherwise an answer
    or a 404 (what a generated client relies on)."""
    spec = client.get("/openapi.json").json()
    reads = [(path, item["get"]) for path, item in spec["paths"].items() if "get" in item]
    assert any(op.get("security") for _, op in reads)  # some read is an editor's
    for path, op in reads:
        status = client.get(re.sub(r"\{[^}]+\}", "nothing", path)).status_code
        assert (status == 401) == bool(op.get("security")), (path, status)
