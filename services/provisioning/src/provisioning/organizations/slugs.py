"""What makes an organization slug acceptable (it appears in URLs and is never reused)."""

import re

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
RESERVED = frozenset({"admin", "api", "auth", "internal", "new", "system", "v1", "www"})


def slug_problem(slug: str) -> str | None:
    """Why ``slug`` is not acceptable, or None when it is."""
    if not SLUG_PATTERN.match(slug):
        return (
            "A slug is 3 to 63 lowercase letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    if "--" in slug:
        return "A slug has no double hyphens"
    if slug in RESERVED:
        return f"'{slug}' is reserved"
    return None
