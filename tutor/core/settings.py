"""Settings: defaults < user config file < environment < command-line flags."""

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    FilePath,
    SecretStr,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import ErrorDetails

from tutor.core import paths
from tutor.core.errors import TutorError, problem_text

ENV = {
    "backend": "TUTOR_BACKEND",
    "model": "TUTOR_MODEL",
    "base_url": "OPENAI_BASE_URL",
    "api_key": "OPENAI_API_KEY",
    "explainer": "TUTOR_EXPLAINER",
    "timeout": "TUTOR_TIMEOUT",
    "head": "TUTOR_HEAD",
    "course": "TUTOR_COURSE",
}


RENAMED = {"concurrency": "parallel_claims"}  # old key → new key, named in the error
MAX_TIMEOUT_S = 86_400.0  # a day: beyond it the socket layer overflows (1e12 was a traceback)
_HTTP_URL = TypeAdapter(AnyHttpUrl)


def _http_url(value: str) -> str:
    """An http(s) URL with a host and a valid port, kept as written (the client adds paths to it).
    The parser forgives `http:/host` and port 0; a server cannot be reached at either."""
    url = _HTTP_URL.validate_python(value)
    if not re.match(r"(?i)https?://[^/]", value.strip()):
        raise ValueError("write the URL as http://HOST[:PORT]/… (two slashes, then the host)")
    if url.port == 0:
        raise ValueError("port 0 is no server's port")
    return value


HttpUrlText = Annotated[str, AfterValidator(_http_url)]


def _head_file(value: str) -> str:
    """'plain', or a head file from `tutor calibrate` that loads: checked before any work, like
    --explainer (a typo or a damaged file was silently ignored by every backend but one)."""
    if value == "plain":
        return value
    from tutor.core.decide import load_head  # numpy and the head format: only when one is named

    if not Path(value).expanduser().is_file():
        raise ValueError("no such head file (a file from `tutor calibrate`, or 'plain')")
    try:
        load_head(value)
    except TutorError as exc:
        raise ValueError(exc.message) from None
    return value


HeadOption = Annotated[str, AfterValidator(_head_file)]


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    backend: str = "local"
    model: str | None = None  # local: default | small | PATH.gguf; openai: the model name
    base_url: HttpUrlText | None = None
    api_key: SecretStr | None = None
    explainer: FilePath | None = None  # must exist: a typo is an error, not silence
    timeout: float = Field(default=60.0, gt=0, le=MAX_TIMEOUT_S)
    parallel_claims: int = Field(default=4, ge=1, le=64)  # openai: one answer's claims in flight
    head: HeadOption | None = None  # local judge: a head file from `tutor calibrate`, or "plain" (P(yes))
    course: Path | None = None  # a course folder (default: the bundled Week 6 course)


def config_path() -> Path:
    return paths.config_dir() / "config.toml"


def _from_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TutorError(f"{path}: bad TOML ({exc})") from None
    except OSError as exc:  # a folder, no permission, a broken disk: one line, exit 2
        raise TutorError(f"{path}: cannot read the config file ({exc.strerror or exc})") from None
    unknown = sorted(set(data) - set(Settings.model_fields))
    if unknown and unknown[0] in RENAMED:
        raise TutorError(f"{path}: setting '{unknown[0]}' is now called '{RENAMED[unknown[0]]}'")
    if unknown:
        known = ", ".join(Settings.model_fields)
        raise TutorError(f"{path}: unknown setting '{unknown[0]}' (known: {known})")
    return data


def load_settings(flags: Mapping[str, object] | None = None) -> tuple[Settings, dict[str, str]]:
    """The effective settings and where each came from."""
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    layers = [(str(config_path()), _from_file(config_path())),
              ("environment", {k: os.environ[v] for k, v in ENV.items() if os.environ.get(v)}),
              ("flag", {k: v for k, v in (flags or {}).items() if v is not None})]
    for source, layer in layers:
        values.update(layer)
        sources.update(dict.fromkeys(layer, source))
    try:
        return Settings.model_validate(values), sources
    except ValidationError as exc:
        first = exc.errors()[0]
        raise TutorError(f"{_origin(first['loc'], sources)}: {problem_text(first)}{_given(first)}") from None


def _given(error: ErrorDetails) -> str:
    """The value that was refused, for a path or URL (the key is never shown)."""
    shown = error["loc"][0] in ("explainer", "base_url", "course", "head")
    return f" (given: {error['input']})" if shown else ""


def _origin(loc: tuple[int | str, ...], sources: dict[str, str]) -> str:
    """Where a bad setting came from, as the user would write it: `option --timeout`,
    `setting 'timeout' from environment (TUTOR_TIMEOUT)` or from the config file."""
    name = str(loc[0])
    where = sources.get(name, "settings")
    if where == "flag":
        return f"option --{name.replace('_', '-')}"
    if where == "environment":
        where = f"environment ({ENV[name]})"
    return f"setting '{'.'.join(map(str, loc))}' from {where}"


def mask(secret: SecretStr | None) -> str:
    if secret is None:
        return "(not set)"
    value = secret.get_secret_value()
    return "****" + value[-4:] if len(value) > 8 else "****"
