"""Checks of the household book's changes (一户一册), shared by the service and the import.

Everything here reads and judges; nothing writes. `kaoping.people.services` writes."""

import re
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.core.limits import name_problem, text_problem
from kaoping.core.privacy import id_number_problem

from .models import Gender, Person

PHONE_RE = re.compile(r"1\d{10}")
PERSON_BOOK_FIELDS = ("name", "gender", "id_number", "phone", "relation", "birth_date")
HOUSEHOLD_BOOK_FIELDS = ("address", "head")
GENDER_WORDS = {"男": Gender.MALE, "女": Gender.FEMALE, "M": Gender.MALE, "F": Gender.FEMALE}


def field_label(field: str) -> str:
    """The Chinese name of a person's or household's field, as the pages head it."""
    from .models import Household

    for model in (Person, Household):
        try:
            return str(model._meta.get_field(field).verbose_name)
        except Exception:  # noqa: BLE001 — FieldDoesNotExist: try the next model
            continue
    return field


def birth_date_of(id_number: str) -> date | None:
    """The birth date written in a (valid) ID number."""
    if not id_number:
        return None
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def gender_of(id_number: str) -> str:
    """The gender written in a (valid) ID number: the 17th digit is odd for men."""
    return Gender.MALE if int(id_number[16]) % 2 else Gender.FEMALE


def value_problem(field: str, value) -> str | None:
    """Why `value` cannot be stored in the person's `field`, or None (ID numbers: GB 11643)."""
    if field == "name":
        if not value:
            return _("The name is empty.")
        if len(value) > 50:
            return _("At most %(n)d characters.") % {"n": 50}
        problem = name_problem(value)
        return _("This name %(problem)s.") % {"problem": problem} if problem else None
    if field == "id_number":
        return id_number_problem(value) if value else None
    if field == "phone":
        if value and not PHONE_RE.fullmatch(value):
            return _("A mobile number has 11 digits starting with 1.")
        return None
    if field == "gender":
        return None if value in Gender.values else _("Write 男 or 女.")
    if field == "birth_date":
        if value is not None and not isinstance(value, date):
            return _("Not a date.")
        if value is not None and value > timezone.localdate():
            return _("The date lies in the future.")
        return None
    if field in ("relation", "address"):
        limit = 20 if field == "relation" else 200
        if len(value) > limit:
            return _("At most %(n)d characters.") % {"n": limit}
        problem = text_problem(value, multiline=False)
        return _("This text %(problem)s.") % {"problem": problem} if problem else None
    return None
