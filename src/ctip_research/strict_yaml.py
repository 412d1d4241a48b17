"""YAML that refuses a key given twice in one mapping.

PyYAML keeps the last of two equal keys without a word: a codebook that lists a raw column twice
(first ``pii``, later ``map``) would silently publish it, and a second ``privacy:`` block appended
to ``params.yaml`` would silently replace the first. :func:`load_yaml` reads YAML like
``yaml.safe_load`` but raises a :class:`yaml.constructor.ConstructorError` (a ``yaml.YAMLError``
with the line of the second key) for a duplicate key. The error names the key, never a value.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

__all__ = ["StrictSafeLoader", "load_yaml"]

#: Keys shown in the message: names of columns and parameters (a key that could be a raw value,
#: e.g. in a value map, is given by its line only).
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_/.-]{0,63}$")


class StrictSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that raises on a duplicate mapping key (merge keys ``<<`` allowed)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        """The mapping of ``node``; a key given twice is an error naming both lines."""
        if isinstance(node, MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    continue  # reported by the base class as an unhashable key
                line = key_node.start_mark.line + 1
                if key in seen:
                    shown = f" {key!r}" if _NAME.match(str(key)) else ""
                    raise ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"duplicate key{shown} (first given at line {seen[key]}, again at "
                        f"line {line}); YAML would silently keep only the last one",
                        key_node.start_mark,
                    )
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    r"""Parse YAML text safely, refusing duplicate keys.

    Examples
    --------
    >>> load_yaml("a: 1\nb: 2")
    {'a': 1, 'b': 2}
    >>> load_yaml("a: 1\na: 2")
    Traceback (most recent call last):
    ...
    yaml.constructor.ConstructorError: while constructing a mapping
    ...
    """
    return yaml.load(text, Loader=StrictSafeLoader)
