"""Both services' OpenAPI document is the truth, checked over real HTTP.

`/docs.json` names the model and the version served and documents the codes
the services really send with the one error schema; `/docs` and `/` are a
Swagger UI served from the assets in BentoML's wheel (offline, no CDN, no
tracking script). schemathesis then runs all of its checks against each live
`bentoml serve` process: no 5xx, every status code, content type, header and
body conforming to the document, schema-valid input accepted and
schema-invalid input refused. `--max-examples` bounds it (~10-20 s per
service here); a fixed seed makes a failure reproducible.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.serving.conftest import CHURN, LEARNING_PATH, bentoml_server

pytestmark = pytest.mark.serving

SERVICES = {"churn": CHURN, "learning-path": LEARNING_PATH}
API_ROUTES = {
    "churn": ["/predict", "/predict_batch", "/features", "/feedback"],
    "learning-path": ["/recommend", "/recommend_batch", "/feedback"],
}
ERROR_CODES = {"400", "413", "415", "422", "503"}
MAX_EXAMPLES = 25
SEED = 20261206

# /feedback's cross-field rules (request_id or entity_id, not both; record only
# with request_id; observed_at not in the future) cannot be stated in JSON
# Schema, so a schema-valid body may be a 422 there: only that one check is
# off, for that one route. Every other check runs everywhere (schemathesis 4
# runs all of its checks by default; max_response_time needs a threshold and
# timings belong in benchmarks).
#
# The same for V2 infer: which tensors are required, each one's datatype and
# that all have one batch size depend on each other's names, which a JSON
# Schema of an array of tensors cannot say (the document states them in words).
SCHEMATHESIS_CONFIG = """
[[operations]]
include-path = "/feedback"
checks.positive_data_acceptance.enabled = false

[[operations]]
include-path-regex = "^/v2/models/.*/infer$"
checks.positive_data_acceptance.enabled = false
"""
V2_ROUTES = {
    "/v2": "get",
    "/v2/health/live": "get",
    "/v2/health/ready": "get",
    "/v2/models/{name}": "get",
    "/v2/models/{name}/ready": "get",
    "/v2/models/{name}/infer": "post",
    "/v2/models/{name}/versions/{version}": "get",
    "/v2/models/{name}/versions/{version}/ready": "get",
    "/v2/models/{name}/versions/{version}/infer": "post",
}


@pytest.fixture(scope="module", params=list(SERVICES))
def server(request, churn_model, lp_model, tmp_path_factory):
    name = request.param
    model = churn_model if name == "churn" else lp_model
    with bentoml_server(
        model, tmp_path_factory.mktemp(f"openapi-{name}"), target=SERVICES[name]
    ) as running:
        yield name, model, running


def test_docs_json_names_the_model_version_and_the_real_answers(server) -> None:
    name, model, running = server
    doc = httpx.get(f"{running.url}/docs.json", timeout=10).json()
    assert doc["openapi"].startswith("3.1")
    assert doc["info"]["version"] == model.version
    assert doc["info"]["title"] == f"{model.model} (modelops)"
    assert "bentoml.com" not in json.dumps(doc["info"])
    assert doc["info"]["description"].strip()
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    for route in API_ROUTES[name]:
        operation = doc["paths"][route]["post"]
        codes = set(operation["responses"])
        assert codes >= {"200", *ERROR_CODES}, (route, codes)
        assert not codes & {"404"}, (route, codes)  # BentoML's, never sent
        assert operation["requestBody"]["required"] is True
        for code in ERROR_CODES:
            ref = operation["responses"][code]["content"]["application/json"]["schema"]
            assert ref == {"$ref": "#/components/schemas/Error"}
        assert "X-Request-Id" in operation["responses"]["200"]["headers"]
        assert operation["description"], route
    assert set(doc["paths"]["/readyz"]["get"]["responses"]) == {"200", "503"}
    for route, method in V2_ROUTES.items():
        assert method in doc["paths"][route], route
    infer = doc["paths"]["/v2/models/{name}/infer"]["post"]
    assert set(infer["responses"]) >= {"200", "404", *ERROR_CODES}
    metadata = httpx.get(f"{running.url}/v2/models/{model.model}", timeout=10).json()
    tensor = infer["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert tensor["inputs"]["items"]["properties"]["name"]["enum"] == [
        t["name"] for t in metadata["inputs"]
    ]


def test_the_error_bodies_are_the_documented_shape(server) -> None:
    name, _, running = server
    route = API_ROUTES[name][0]
    for body, content_type, status in [
        (b"{", "application/json", 400),
        (b"a=b", "text/plain", 415),
        (b'{"unknown": 1}', "application/json", 422),
    ]:
        resp = httpx.post(
            f"{running.url}{route}", content=body, headers={"Content-Type": content_type}
        )
        assert resp.status_code == status, resp.text
        payload = resp.json()
        assert isinstance(payload["error"], str)
        assert all("loc" in d for d in payload.get("detail", [])), payload


@pytest.mark.parametrize("path", ["/docs", "/"])
def test_a_browsable_ui_from_local_assets(server, path: str) -> None:
    _, _, running = server
    page = httpx.get(f"{running.url}{path}", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/docs.json" in page.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources, page.text
    for source in sources:
        assert source.startswith("/static_content/"), f"{source}: not a local asset"
        assert httpx.get(f"{running.url}{source}", timeout=10).status_code == 200, source


def test_schemathesis_all_checks(server, tmp_path: Path) -> None:
    name, _, running = server
    config = tmp_path / "schemathesis.toml"
    config.write_text(SCHEMATHESIS_CONFIG)
    st = Path(sys.executable).parent / "schemathesis"
    assert st.exists(), f"{st} is missing: schemathesis is a dev dependency, run tools/bootstrap.sh"
    command = [
        str(st), "--no-color", "--config-file", str(config), "run", f"{running.url}/docs.json",
        "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
    ]  # fmt: skip
    result = subprocess.run(
        command,
        cwd=tmp_path,  # its .hypothesis database stays in the test's folder
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{name}:\n{result.stdout[-8000:]}\n{result.stderr[-2000:]}"
    assert "passed" in result.stdout
    assert running.process.poll() is None, "the server died"


def test_a_wrong_method_on_a_v2_route_says_which_is_allowed(server) -> None:
    name, model, running = server
    for path, allowed in [("/v2/health/live", "GET"), (f"/v2/models/{model.model}/infer", "POST")]:
        resp = httpx.request("DELETE", f"{running.url}{path}", timeout=10)
        assert resp.status_code == 405, (name, path, resp.text)
        assert resp.headers["allow"] == allowed
        assert allowed in resp.json()["error"]
