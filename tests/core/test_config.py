from pathlib import Path

import pytest

from portico.config import load_config, settings_from_dict
from portico.errors import ConfigError


def test_default_config_serves_local() -> None:
    s = settings_from_dict({}, env={})
    assert s.model_names() == ["local"]
    assert s.auth.master_key is None


def test_env_values_are_resolved_and_missing_ones_reported() -> None:
    raw = {
        "auth": {"master_key": "env:MK"},
        "models": [{"name": "g", "provider": "openai", "base_url": "http://x/v1", "api_key": "env:UP_KEY"}],
    }
    s = settings_from_dict(raw, env={"MK": "master-123"})
    assert s.auth.master_key is not None and s.auth.master_key.get_secret_value() == "master-123"
    assert s.models[0].api_key is None
    assert s.unset_env == ["models.0.api_key (env UP_KEY)"]


def test_secrets_do_not_render() -> None:
    s = settings_from_dict(
        {"models": [{"name": "g", "provider": "openai", "base_url": "http://x/v1", "api_key": "sk-very-secret"}]},
        env={},
    )
    assert "sk-very-secret" not in repr(s) and "sk-very-secret" not in s.model_dump_json()
    assert s.secrets() == ["sk-very-secret"]


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"models": [{"name": "x", "provider": "nope"}]}, "models.0.provider"),
        ({"models": [{"name": "x", "provider": "openai"}]}, "needs base_url"),
        ({"server": {"port": "eighty"}}, "server.port"),
        ({"serverr": {}}, "serverr"),
        (
            {"models": [{"name": "x", "provider": "local", "price": {"input_per_mtok": -1}}]},
            "models.0.price.input_per_mtok",
        ),
    ],
)
def test_bad_config_names_the_field(raw: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings_from_dict(raw, env={})
    assert needle in info.value.message


def test_load_config_from_file_and_env(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("server: {port: 9123}\nmodels:\n  - {name: e, provider: echo}\n")
    assert load_config(f, env={}).server.port == 9123
    assert load_config(None, env={"PORTICO_CONFIG": str(f)}).model_names() == ["e"]
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml", env={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad, env={})
