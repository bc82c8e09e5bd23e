"""``service_kit.fastapi_internals`` runs only on the FastAPI and Starlette it was checked with.

It relies on behaviour FastAPI does not promise (its docstring says which). On any other
version this fails: re-run the route-table and thread-pool tests against the new version,
re-read that module against FastAPI's routing, then widen ``TESTED_WITH``.
"""

from importlib.metadata import version

import pytest
from packaging.specifiers import SpecifierSet

from service_kit.fastapi_internals import TESTED_WITH


@pytest.mark.parametrize("package", ["fastapi", "starlette"])
def test_installed_framework_is_the_one_the_internals_were_written_for(package: str) -> None:
    installed = version(package)
    assert installed in SpecifierSet(TESTED_WITH[package]), (
        f"{package} {installed} is not the tested {TESTED_WITH[package]}: "
        "service_kit/fastapi_internals.py relies on its internals; check it, then widen TESTED_WITH"
    )
