import pytest

from tutor.core.errors import TutorError
from tutor.core.settings import config_path, load_settings, mask


def test_defaults():
    settings, sources = load_settings()
    assert settings.backend == "local" and settings.model is None and sources == {}


def test_file_then_environment_then_flags(monkeypatch):
    config_path().write_text('backend = "openai"\nmodel = "from-file"\ntimeout = 5\n')
    monkeypatch.setenv("TUTOR_MODEL", "from-env")
    settings, sources = load_settings({"timeout": 9.0, "backend": None})
    assert settings.backend == "openai" and sources["backend"] == str(config_path())
    assert settings.model == "from-env" and sources["model"] == "environment"
    assert settings.timeout == 9.0 and sources["timeout"] == "flag"


def test_unknown_setting_names_file_and_key():
    config_path().write_text('modle = "x"\n')
    with pytest.raises(TutorError, match=r"config.toml: unknown setting 'modle'"):
        load_settings()


def test_a_renamed_setting_names_its_new_key():
    config_path().write_text("concurrency = 8\n")
    with pytest.raises(TutorError, match=r"config.toml: setting 'concurrency' is now called 'parallel_cl"):
        load_settings()
    config_path().write_text("parallel_claims = 8\n")
    assert load_settings()[0].parallel_claims == 8


def test_bad_value_names_its_source(monkeypatch):
    monkeypatch.setenv("TUTOR_TIMEOUT", "soon")
    with pytest.raises(TutorError, match="setting 'timeout' from environment"):
        load_settings()


def test_bad_toml():
    config_path().write_text("backend = \n")
    with pytest.raises(TutorError, match="bad TOML"):
        load_settings()


def test_api_key_is_masked(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value-1234")
    settings, _ = load_settings()
    assert mask(settings.api_key) == "****1234"
    assert "secret" not in repr(settings) and "secret" not in settings.model_dump_json()
