"""Logging, configured once per process: JSON lines, tracebacks without locals, secrets redacted.

Why: an unhandled error used to be logged by structlog's development renderer, which prints the
traceback's local variables, and those held staff passwords, decrypted TOTP secrets, SMS codes,
bearer tokens, full ID numbers and the whole Settings object. Now every event — ours through
structlog, uvicorn's and the standard library's through the same handler — passes `redact` last
before it is written, and tracebacks are rendered as the exception's type and frames (file, line,
function) only: no locals, and no exception message, which can quote any value it was handed.

`redact` works twice over: by the name of a field (a `password=` or `token=` keyword is replaced
whatever its value) and by the shape of a value anywhere in the event, exception messages
included (an 18-character ID number, a mobile number, a bearer token, a verification code next to
its label, a long random token).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"

# Field names whose values are never logged. Matched against the lower-cased name with `-` as `_`.
_SECRET_NAME = re.compile(
    r"pass(word|wd)?$|pwd|secret|token|otp|authorization|cookie|signature|nonce|credential"
    r"|(^|_)key$|private|id_?number|cert_?no|certno|phone|mobile|sms|code_?value|verification"
    r"|(^|_)code$|realname"
)
# Names that end like a secret but name no secret: protocol result codes and institution codes.
_PUBLIC_NAMES = frozenset(
    {"infcode", "fixmedins_code", "error_code", "status_code", "code", "exc_type", "admdvs"}
)

_SHAPES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)\bbearer\s+\S+"), "Bearer " + REDACTED),
    # Mainland ID numbers (GB 11643: 17 digits and a check character), not inside a longer run.
    (re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])"), "[id-number]"),
    # Mobile numbers: 11 digits starting 13–19, optionally +86.
    (re.compile(r"(?<![0-9A-Za-z])(?:\+?86)?1[3-9]\d{9}(?![0-9A-Za-z])"), "[phone]"),
    # A short numeric code next to the words that introduce one.
    (
        re.compile(
            r"(?i)(验证码|动态口令|口令|密码|code|otp|totp|pin)([^0-9]{0,12}?)\d{4,8}(?!\d)"
        ),
        r"\1\2[code]",
    ),
]
# Long random-looking runs (session and access tokens, hex keys, base32 TOTP secrets): at least 16
# characters of one token alphabet holding both a digit and a letter.
_RUN = re.compile(r"[A-Za-z0-9_\-]{16,}")


def _scrub_run(match: re.Match[str]) -> str:
    run = match.group(0)
    has_digit = any(c.isdigit() for c in run)
    has_letter = any(c.isalpha() for c in run)
    return "[token]" if has_digit and has_letter else run


def scrub(text: str) -> str:
    """The text with every secret-shaped value replaced."""
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return _RUN.sub(_scrub_run, text)


def _is_secret_name(name: str) -> bool:
    key = name.lower().replace("-", "_")
    return key not in _PUBLIC_NAMES and _SECRET_NAME.search(key) is not None


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if isinstance(k, str) and _is_secret_name(k) else _clean(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    # Anything else (a Settings object, a row, an exception) is logged as its scrubbed text.
    return scrub(repr(value))


def redact(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """The last processor before rendering: nothing secret leaves the process."""
    return {
        key: (REDACTED if _is_secret_name(key) else _clean(value))
        for key, value in event_dict.items()
    }


def _tracebacks_without_locals() -> Processor:
    return structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False))


def withhold_exception_text(
    _logger: WrappedLogger, _method: str, event_dict: EventDict
) -> EventDict:
    """An exception's message can quote anything it was handed (a database error quotes its bound
    parameters, a validation error the input, a bug its arguments): the log keeps the exception's
    type and frames, never its text."""
    _withhold(event_dict.get("exception"))
    return event_dict


def _withhold(stacks: Any) -> None:
    for stack in stacks or []:
        if isinstance(stack, dict):
            stack["exc_value"] = "[message withheld]"
            stack["exc_notes"] = []
            stack["syntax_error"] = None
            _withhold(stack.get("exceptions"))  # the members of an exception group


_configured = False


def configure_logging(level: str = "info", stream: TextIO | None = None) -> None:
    """Set up structlog and the standard library's logging for this process, once.

    Later calls are ignored, so the app factory can call it and a test (or a CLI command) that set
    up logging first keeps its own stream."""
    global _configured
    if _configured:
        return
    _configured = True
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _tracebacks_without_locals(),
            withhold_exception_text,
            redact,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn configures its own handlers before the app factory runs: route its lines (access
    # log and errors, which carry paths, query strings and exceptions) through ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        named = logging.getLogger(name)
        named.handlers.clear()
        named.propagate = True
