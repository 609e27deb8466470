"""Reading the YAML of form files: a syntax error becomes a QattError with the file, line and column."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict

import yaml

from qatt.errors import QattError


# YAML 1.1 reads an unquoted `no` as false (so `equals: no` would silently become
# a boolean); this loader keeps only true/false as booleans and rejects duplicate keys.

class FormYamlLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when installed: ~5x faster
    pass


FormYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
FormYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _construct_mapping(loader: FormYamlLoader, node: yaml.MappingNode) -> Dict[Any, Any]:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} appears twice in the same block", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


FormYamlLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; a syntax error becomes a QattError with the file, line and column."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise QattError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError:
        raise QattError(f"{path} is not UTF-8 text; save it as UTF-8 and try again.") from None
    try:
        return yaml.load(text, Loader=FormYamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise QattError(f"{path}{where}: YAML syntax error: {problem}. Fix the file and try again.") from None
