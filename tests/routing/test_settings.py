import pytest
from pydantic import ValidationError

from portico.routing.settings import RoutingSettings


def test_complexity_route_parses_with_share_threshold() -> None:
    s = RoutingSettings.model_validate(
        {
            "routes": [
                {
                    "name": "auto",
                    "policy": "complexity",
                    "fast": "local",
                    "strong": "big",
                    "threshold": {"strong_share": 0.3},
                }
            ]
        }
    )
    route = s.route("auto")
    assert route is not None and route.policy == "complexity"
    assert s.targets() == {"local", "big"}


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ({"name": "a", "policy": "complexity", "fast": "f", "strong": "s", "threshold": {}}, "exactly one"),
        (
            {
                "name": "a",
                "policy": "complexity",
                "fast": "f",
                "strong": "s",
                "threshold": {"score": 0.5, "strong_share": 0.2},
            },
            "got score, strong_share",
        ),
        ({"name": "a", "policy": "ensemble", "models": ["x", "y"], "aggregate": "judge"}, "needs `judge"),
        ({"name": "a", "policy": "ensemble", "models": ["x"]}, "at least 2 answers"),
        (
            {"name": "a", "policy": "rules", "default": "x", "rules": [{"when": {"regex": "("}, "model": "y"}]},
            "does not compile",
        ),
        (
            {"name": "a", "policy": "rules", "default": "x", "rules": [{"when": {"intent": "billing"}, "model": "y"}]},
            "uses intent 'billing'",
        ),
        ({"name": "a", "policy": "cascade", "fast": "f", "strong": "s", "check": {}}, "at least one of"),
        ({"name": "a", "policy": "magic"}, "magic"),
    ],
)
def test_invalid_routes_name_the_problem(route: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RoutingSettings.model_validate({"routes": [route]})


def test_duplicate_route_names_are_rejected() -> None:
    r = {"name": "auto", "policy": "ensemble", "models": ["x", "y"]}
    with pytest.raises(ValidationError, match="declared twice"):
        RoutingSettings.model_validate({"routes": [r, r]})


def test_unknown_keys_are_rejected() -> None:
    with pytest.raises(ValidationError, match="extra"):
        RoutingSettings.model_validate({"routes": [{"name": "a", "policy": "ensemble", "models": ["x", "y"], "x": 1}]})
