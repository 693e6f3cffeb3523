"""Local CORS as API Gateway applies template.yaml's CorsConfiguration."""

from __future__ import annotations

from local.gateway import Cors, cors_from_template
from local.tables import load_template

APP = "https://app.example.com"


def _cors() -> Cors:
    cors = cors_from_template(load_template(), {"AllowedOrigins": [APP]})
    assert cors is not None
    return cors


def test_the_configuration_is_read_from_the_template() -> None:
    config = load_template()["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]

    assert config["AllowOrigins"] == {"Ref": "AllowedOrigins"}
    assert _cors() == Cors(
        allow_origins=(APP,),
        allow_methods=tuple(config["AllowMethods"]),
        allow_headers=tuple(config["AllowHeaders"]),
        expose_headers=tuple(config["ExposeHeaders"]),
        max_age=config["MaxAge"],
    )
    assert {"GET", "POST", "OPTIONS"} <= set(_cors().allow_methods)
    assert "Idempotency-Key" in _cors().allow_headers


def test_the_functions_own_cors_headers_are_replaced_by_the_gateways() -> None:
    from_function = [
        ("Content-Type", "application/json"),
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Headers", "X-Api-Key,X-Amz-Date"),
    ]

    answer = dict(_cors().decorate([("Origin", APP)], from_function))

    assert answer == {
        "Content-Type": "application/json",
        "Vary": "Origin",
        "Access-Control-Allow-Origin": APP,
        "Access-Control-Expose-Headers": ",".join(_cors().expose_headers),
    }
    assert {"Location", "Idempotent-Replayed"} <= set(_cors().expose_headers)


def test_requests_without_an_allowed_origin_get_no_grant() -> None:
    for request in ([], [("Origin", "https://evil.example")]):
        answer = dict(_cors().decorate(request, []))
        assert "Access-Control-Allow-Origin" not in answer
        assert answer["Vary"] == "Origin"


def test_only_a_real_preflight_is_answered_by_the_gateway() -> None:
    cors = _cors()
    assert cors.is_preflight("OPTIONS", [("Origin", APP), ("Access-Control-Request-Method", "POST")])
    assert not cors.is_preflight("OPTIONS", [("Origin", APP)])
    assert not cors.is_preflight("GET", [("Origin", APP), ("Access-Control-Request-Method", "POST")])
