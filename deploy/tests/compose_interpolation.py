"""Compose's variable interpolation (``$VAR``, ``${VAR:-d}``, ``${VAR-d}``, ``${VAR:?m}``,
``${VAR?m}``, ``${VAR:+a}``, ``${VAR+a}``, nestable, and the ``$$`` escape), for the static
checks of docker-compose.yml.

Kept as our own because no kept tool does it here: the ``compose_spec`` package validates but
does not interpolate; Debian 12's ``docker-compose`` (1.29.2) refuses the current Compose
specification (``'name' does not match any of the regexes: '^x-'`` on this file's top-level
``name``), and the Go ``docker compose`` plugin is not in Debian 12 or on PyPI.
test_compose.py tests it against the operators the Compose reference lists.
"""

import re
from typing import Any

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class MissingVariableError(ValueError):
    """A ``${VAR:?msg}`` / ``${VAR?msg}`` whose variable is not set (compose refuses to run)."""


def _find_closing_brace(text: str, start: int) -> int:
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unterminated ${{ in {text!r}")


def _expand_braced(body: str, env: dict[str, str], used: set[str]) -> str:
    match = _NAME.match(body)
    if not match:
        raise ValueError(f"invalid interpolation ${{{body}}}")
    name = match.group(0)
    rest = body[match.end() :]
    used.add(name)
    value = env.get(name)
    if rest == "":
        return value or ""
    for op in (":-", ":?", ":+", "-", "?", "+"):
        if rest.startswith(op):
            arg = rest[len(op) :]
            break
    else:
        raise ValueError(f"invalid interpolation ${{{body}}}")
    empty = value is None or (op.startswith(":") and value == "")
    if op.endswith("-"):
        return interpolate(arg, env, used) if empty else value
    if op.endswith("?"):
        if empty:
            raise MissingVariableError(f"required variable {name} is missing a value: {arg}")
        return value
    return "" if empty else interpolate(arg, env, used)  # "+": alternative value


def interpolate(text: str, env: dict[str, str], used: set[str] | None = None) -> str:
    """Expand ``$VAR``, ``${VAR}``, ``${VAR:-d}``, ``${VAR-d}``, ``${VAR:?m}``, ``${VAR?m}``,
    ``${VAR:+a}``, ``${VAR+a}`` (nestable) and the ``$$`` escape, like compose."""
    used = used if used is not None else set()
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] != "$":
            out.append(text[i])
            i += 1
        elif text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            end = _find_closing_brace(text, i + 2)
            out.append(_expand_braced(text[i + 2 : end], env, used))
            i = end + 1
        elif match := _NAME.match(text, i + 1):
            used.add(match.group(0))
            out.append(env.get(match.group(0), ""))
            i = match.end()
        else:
            out.append("$")
            i += 1
    return "".join(out)


def interpolate_tree(node: Any, env: dict[str, str], used: set[str] | None = None) -> Any:
    """Interpolate every string value of a parsed YAML document (never its keys)."""
    if isinstance(node, dict):
        return {key: interpolate_tree(value, env, used) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate_tree(value, env, used) for value in node]
    if isinstance(node, str):
        return interpolate(node, env, used)
    return node
