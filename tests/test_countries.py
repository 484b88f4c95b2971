"""Country endpoints: ISO codes, historical states and treaty participation."""

from fastapi.testclient import TestClient


def test_list_and_historical_filter(client: TestClient) -> None:
    everything = client.get("/v1/countries", params={"limit": 500}).json()
    assert everything["total"] == 39
    historical = client.get("/v1/countries", params={"historical": "true"}).json()
    assert {c["code"] for c in historical["items"]} == {"SU", "CS"}


def test_ussr_and_russia_in_the_inf_treaty(client: TestClient) -> None:
    ussr = client.get("/v1/countries/SU").json()
    assert (ussr["iso_3166_3"], ussr["alpha3"], ussr["historical"]) == ("SUHH", "SUN", True)
    [inf] = ussr["participation"]
    assert (inf["treaty"]["slug"], inf["role"], inf["ended_on"]) == ("inf", "predecessor", "1991")
    russia = {
        p["treaty"]["slug"]: p for p in client.get("/v1/countries/ru").json()["participation"]
    }
    assert russia["inf"]["consent_type"] == "succession"
    assert russia["inf"]["role"] == "former_party"
    assert russia["open-skies"]["role"] == "withdrawn"
    assert russia["new-start"]["role"] == "former_party"


def test_unknown_country_is_a_404(client: TestClient) -> None:
    response = client.get("/v1/countries/XX")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
