"""JSON Schema glue: the schemas come from zod in core/ (`npm run schemas`); this turns their verdicts into
config errors that name the field at fault, and fills in the defaults they declare."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Dict, List, Sequence, Union

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from .errors import config_error

Schema = Dict[str, Any]


def read_schema(path: Union[str, Path]) -> Schema:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def field_name(path: Sequence[Union[str, int]], prefix: str = "") -> str:
    """['features', 0, 'type'] -> 'features[0].type'."""
    name = prefix
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def _describe(error: ValidationError, prefix: str) -> str:
    error = best_match([error])  # descends into anyOf/oneOf for the branch that nearly matched
    where = field_name(list(error.absolute_path), prefix)
    if error.validator == "required":
        missing = [p for p in error.validator_value if p not in error.instance]
        names = ", ".join(f"'{field_name([p], where)}'" for p in missing)
        return f"missing required field{'s' if len(missing) > 1 else ''} {names}"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"unknown field(s) in '{where}': {', '.join(unknown)}"
    message = error.message
    if error.validator in ("anyOf", "oneOf") and error.context:  # no branch nearly matched: say what each wants
        message = " or ".join(dict.fromkeys(c.message for c in error.context))
    return f"'{where}': {message}" if where else message


def check(schema: Schema, value: Any, prefix: str = "") -> None:
    """Raises a config error listing every problem (each once), in field order."""
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(value), key=lambda e: list(map(str, e.path)))
    problems: List[str] = list(dict.fromkeys(_describe(e, prefix) for e in errors))
    if problems:
        raise config_error("; ".join(problems))


def with_defaults(schema: Schema, value: Any) -> Any:
    """`value` with every absent property that the schema gives a default filled in, recursively, in the
    schema's order (then any properties it does not name)."""
    if not isinstance(value, dict):
        return value
    properties = schema.get("properties", {})
    out: Dict[str, Any] = {}
    for key, sub in properties.items():
        if key in value:
            out[key] = with_defaults(sub, value[key])
        elif "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
    out.update((k, v) for k, v in value.items() if k not in properties)
    return out
