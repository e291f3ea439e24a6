"""One permission case of `test_service_permissions` (kept apart so that an app's tests can hold
their own cases: `<app>/tests/cases_<module>.py` with a `CASES` dict, gathered by `cases_of`)."""

import importlib
import pkgutil
from dataclasses import dataclass

from kaoping.accounts.scoping import Refused


@dataclass(frozen=True)
class Case:
    allowed: str  # a persona who may (the case's call goes through for them)
    refused: str  # a persona who may not: out of scope, or without the action
    call: object  # (world, actor) → the service's result
    refusal: type[Exception] = Refused


def cases_of(package: str) -> dict[str, Case]:
    """The CASES of every `cases_*` module of a tests package."""
    found: dict[str, Case] = {}
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        if info.name.startswith("cases_"):
            found.update(importlib.import_module(f"{package}.{info.name}").CASES)
    return found
