"""A small OpenAPI 3.0 schema checker for the demo's Jellyfin bodies (no jsonschema dependency).

Handles what the Jellyfin schemas use: $ref, allOf/oneOf, type, nullable, enum, items, properties,
additionalProperties (false, or a schema). Returns a list of problems (empty = valid)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


class Schemas:
    def __init__(self, path: Path) -> None:
        self.schemas: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["schemas"]

    def check(self, value: object, name: str) -> list[str]:
        return self._check(value, self.schemas[name], name)

    def _check(self, value: object, schema: dict[str, Any], where: str) -> list[str]:
        if "$ref" in schema:
            return self._check(value, self.schemas[schema["$ref"].rsplit("/", 1)[-1]], where)
        if value is None:
            return (
                []
                if schema.get("nullable") or "allOf" in schema and schema.get("nullable")
                else [f"{where}: null"]
            )
        problems: list[str] = []
        for sub in schema.get("allOf", []):
            problems += self._check(value, sub, where)
        if "oneOf" in schema and all(self._check(value, s, where) for s in schema["oneOf"]):
            problems.append(f"{where}: matches no oneOf branch")
        if "enum" in schema and value not in schema["enum"]:
            problems.append(f"{where}: {value!r} not in enum")
        kind = schema.get("type")
        if kind:
            ok = isinstance(value, _TYPES[kind]) and not (
                kind in ("integer", "number") and isinstance(value, bool)
            )
            if not ok:
                return problems + [f"{where}: expected {kind}, got {type(value).__name__}"]
        if isinstance(value, list) and "items" in schema:
            for n, item in enumerate(value):
                problems += self._check(item, schema["items"], f"{where}[{n}]")
        if isinstance(value, dict):
            props = schema.get("properties", {})
            extra = schema.get("additionalProperties", True)
            for key, item in value.items():
                if key in props:
                    problems += self._check(item, props[key], f"{where}.{key}")
                elif extra is False:
                    problems.append(f"{where}: unknown property {key!r}")
                elif isinstance(extra, dict):
                    problems += self._check(item, extra, f"{where}.{key}")
            problems += [
                f"{where}: missing required {k!r}" for k in schema.get("required", []) if k not in value
            ]
        return problems
