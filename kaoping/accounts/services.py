"""Login throttling (counters in the cache, keyed by username and client address) and the
management of logins in the console."""

import hashlib
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from kaoping.core import throttle
from kaoping.core.audit import audit_record
from kaoping.core.errors import ImportFailed, KaopingError, RowError
from kaoping.core.limits import name_problem
from kaoping.core.tabular import rows_with_header

from .models import Profile, Role, RoleAssignment
from .permissions import ROLE_LEVELS, may_grant, user_can
from .scoping import Refused, ensure, is_system, is_unrestricted, restrict


def _account_key(username: str, address: str) -> str:
    digest = hashlib.sha256(f"{username.lower()}|{address}".encode()).hexdigest()[:32]
    return f"kaoping:login-failures:{digest}"


def _address_key(address: str) -> str:
    digest = hashlib.sha256(address.encode()).hexdigest()[:32]
    return f"kaoping:login-failures:address:{digest}"


# Two counters, both in the workers' shared cache (kaoping.core.throttle): failures per
# (username, address), the account's lockout; and failures per address whatever the usernames,
# which shuts out an address guessing across many accounts. A window starts at its first
# failure, so a blocked user waits at most the lockout.
BLOCKED_ACCOUNT = "account"
BLOCKED_ADDRESS = "address"


def login_attempt_begin(*, username: str, address: str) -> str | None:
    """Count a sign-in attempt before its password is checked; BLOCKED_ACCOUNT or
    BLOCKED_ADDRESS when it must be refused unchecked, else None.

    Counting first (and giving the count back when the password is right) means attempts racing
    on several workers cannot all slip under the limit.
    """
    per_address = throttle.bump(_address_key(address), settings.LOGIN_ADDRESS_LOCKOUT_SECONDS)
    per_account = throttle.bump(_account_key(username, address), settings.LOGIN_LOCKOUT_SECONDS)
    if per_address > settings.LOGIN_MAX_FAILURES_PER_ADDRESS:
        return BLOCKED_ADDRESS
    if per_account > settings.LOGIN_MAX_FAILURES:
        return BLOCKED_ACCOUNT
    return None


def login_attempt_succeeded(*, username: str, address: str) -> None:
    """The password was right: the account starts afresh, the address gets its attempt back (a
    valid login must not let an address reset its count of guesses at others)."""
    throttle.reset(_account_key(username, address))
    throttle.give_back(_address_key(address))


def login_is_blocked(*, username: str, address: str) -> bool:
    """Whether the next attempt for `username` from `address` would be refused (counts nothing)."""
    return (
        throttle.count(_account_key(username, address)) >= settings.LOGIN_MAX_FAILURES
        or throttle.count(_address_key(address)) >= settings.LOGIN_MAX_FAILURES_PER_ADDRESS
    )


# ──────────────────────────── logins, managed in the console ────────────────────────────
#
# A login manager (a role with `login.manage`: the county admin, the township staff) creates,
# imports, disables, enables and resets logins inside its own scope, and never grants a role
# above its own (`permissions.ROLE_RANK`). The login's username is its mobile number. A new or
# reset login gets a temporary password, shown once to the manager, that must be changed at the
# first sign-in (`Profile.must_change_password`, enforced by `middleware`).

PHONE_RE = re.compile(r"1[3-9]\d{9}")
# Without 0/O, 1/l/I: read off a screen and typed into a phone.
_TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TEMP_PASSWORD_LENGTH = 10
IMPORT_MAX_ROWS = 500  # every login's password is hashed on purpose slowly (argon2)

# The template's headers (the file format is Chinese, as the division list's 代码 and 名称).
LOGIN_HEADERS = {"name": "姓名", "phone": "手机号", "role": "角色", "scope": "范围"}
LOGIN_COLUMNS = {
    "name": {"name", "姓名"},
    "phone": {"phone", "手机号", "手机号码", "手机"},
    "role": {"role", "角色"},
    "scope": {"scope", "范围", "管辖范围", "区划代码", "scope region code"},
}


def temporary_password() -> str:
    """A random password for a new or reset login; it passes the password validators."""
    while True:
        password = "".join(secrets.choice(_TEMP_ALPHABET) for _ in range(TEMP_PASSWORD_LENGTH))
        # At least one letter and one digit, so no validator refuses it as all-numeric.
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def _anchor_model(name: str):
    # The anchors' models sit in the layers above this app; the role model names them.
    return RoleAssignment._meta.get_field(name).related_model


@dataclass(frozen=True)
class Grant:
    """A role and the place it is held: the anchor of a role assignment, not yet saved."""

    role: str
    region: object = None
    department: object = None
    household: object = None

    @property
    def anchor(self):
        return self.household or self.department or self.region

    @property
    def code(self) -> str:
        """The region code whose subtree the grant lies in (a department: its county)."""
        if self.department is not None:
            return self.department.county.code
        return self.region.code

    def describe(self) -> str:
        return f"{Role(self.role).label} · {self.anchor}"


def grant_of(assignment: RoleAssignment) -> Grant:
    return Grant(
        role=assignment.role,
        region=assignment.region,
        department=assignment.department,
        household=assignment.household,
    )


def role_from_text(text: str) -> str | None:
    """The role named by `text`: its code (county_admin) or its label in Chinese or English."""
    text = text.strip()
    if text in Role.values:
        return text
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for value, label in Role.choices:
                if text == str(label):
                    return value
    return None


def _significant_code(text: str) -> str:
    """A 12-digit official code shortened to our significant code (330304001000 → 330304001)."""
    code = text.strip()
    if len(code) == 12 and code.isdigit():
        for _level in range(2):
            if code.endswith("000") and len(code) > 6:
                code = code[:-3]
    return code


def _grant_resolve(*, role: str, scope: str, acting_user) -> Grant:
    """The grant `role` on `scope` names, looked up among the places `acting_user` manages.

    `scope` is a region's division code (or exact name) for most roles, a department's code or
    name for a department scorer and a household number for a villager. Raises KaopingError on
    the field at fault ({"role": …} or {"scope": …}); a place outside the actor's area reads as
    not found, so nobody learns what lies outside it.
    """
    scope = scope.strip()
    if not scope:
        raise KaopingError({"scope": _("Give the region code the role is held in.")})
    if role == Role.DEPARTMENT_SCORER:
        departments = restrict(
            _anchor_model("department").objects.select_related("county"),
            acting_user,
            "login.manage",
        )
        found = list(departments.filter(models.Q(code=scope) | models.Q(name=scope))[:2])
        if len(found) != 1:
            message = (
                _("Several departments match “%(s)s”; use the department's code.")
                if found
                else _("No department “%(s)s” in your area.")
            )
            raise KaopingError({"scope": message % {"s": scope}})
        return Grant(role=role, department=found[0])
    if role == Role.VILLAGER:
        households = restrict(
            _anchor_model("household").objects.select_related("region"),
            acting_user,
            "login.manage",
        )
        household = households.filter(number=scope).first()
        if household is None:
            raise KaopingError(
                {"scope": _("No household number “%(s)s” in your area.") % {"s": scope}}
            )
        return Grant(role=role, region=household.region, household=household)
    regions = restrict(_anchor_model("region").objects.all(), acting_user, "login.manage")
    found = list(regions.filter(models.Q(code=_significant_code(scope)) | models.Q(name=scope))[:2])
    if len(found) != 1:
        message = (
            _("Several places are named “%(s)s”; use the region code.")
            if found
            else _("No region “%(s)s” in your area.")
        )
        raise KaopingError({"scope": message % {"s": scope}})
    region = found[0]
    if region.level not in ROLE_LEVELS[role]:
        raise KaopingError(
            {
                "scope": _("A %(role)s is held in a %(levels)s; %(name)s is a %(level)s.")
                % {
                    "role": Role(role).label,
                    "levels": _(" or ").join(
                        str(dict(region._meta.get_field("level").choices)[level])
                        for level in ROLE_LEVELS[role]
                    ),
                    "name": region.name,
                    "level": region.get_level_display(),
                }
            }
        )
    return Grant(role=role, region=region)


def _require_login_manager(acting_user) -> None:
    """Refuse anyone who manages no logins anywhere (before reading what they sent)."""
    if is_system(acting_user):
        return
    if acting_user is None or not acting_user.is_authenticated or not acting_user.is_active:
        raise Refused()
    if not user_can(acting_user, "login.manage"):
        raise Refused()


def _ensure_may_grant(acting_user, grant: Grant) -> None:
    ensure(acting_user, "login.manage", grant.anchor)
    if not may_grant(acting_user, grant.role, grant.code):
        raise Refused(_("You may not grant a role above your own."))


def _ensure_may_manage(acting_user, user) -> list[Grant]:
    """Refuse unless `acting_user` may grant every role `user` holds where it holds it: nobody
    disables or resets a login more powerful than theirs, or one reaching outside their area."""
    _require_login_manager(acting_user)
    if is_system(user):
        raise Refused()
    grants = [
        grant_of(assignment)
        for assignment in user.role_assignments.select_related(
            "region", "department__county", "household"
        )
    ]
    if is_unrestricted(acting_user):
        return grants
    if user.is_superuser or user.is_staff or not grants:
        raise Refused()
    for grant in grants:
        _ensure_may_grant(acting_user, grant)
    return grants


def _login_problems(*, name: str, phone: str) -> dict[str, str]:
    problems = {}
    if not name.strip():
        problems["name"] = _("Give the person's name.")
    elif len(name.strip()) > 30:
        problems["name"] = _("A name has at most 30 characters.")
    elif problem := name_problem(name):
        problems["name"] = _("The name %(problem)s.") % {"problem": problem}
    if not PHONE_RE.fullmatch(phone):
        problems["phone"] = _(
            "“%(p)s” is not a mobile number: 11 digits starting with 1, such as 13800000000."
        ) % {"p": phone}
    elif get_user_model().objects.filter(username__iexact=phone).exists():
        problems["phone"] = _("A login with the number %(p)s exists already.") % {"p": phone}
    return problems


def _link_person(grant: Grant, phone: str):
    """The resident the login belongs to, when the number names exactly one in its area."""
    persons = _anchor_model("household")._meta.get_field("head").related_model.objects
    found = list(
        persons.filter(phone=phone, region__code__startswith=grant.code).values_list(
            "pk", flat=True
        )[:2]
    )
    return found[0] if len(found) == 1 else None


def _login_write(*, name: str, phone: str, grant: Grant, acting_user) -> tuple[object, str]:
    password = temporary_password()
    user = get_user_model().objects.create_user(
        username=phone, first_name=name.strip(), password=password
    )
    RoleAssignment.objects.create(
        user=user,
        role=grant.role,
        region=grant.region,
        department=grant.department,
        household=grant.household,
    )
    Profile.objects.create(
        user=user, person_id=_link_person(grant, phone), must_change_password=True
    )
    audit_record(
        actor=acting_user,
        action="accounts.login.created",
        obj=user,
        region_code=grant.code,
        after={
            "username": phone,
            "name": name.strip(),
            "role": grant.role,
            "scope": str(grant.anchor),
        },
        object_repr=f"{name.strip()} ({phone})",
    )
    return user, password


def login_create(*, name: str, phone: str, role: str, scope: str, acting_user):
    """Create a login for `name` with mobile number `phone` (its username) holding `role` on
    `scope`. Returns (user, temporary password); the password is shown once and must be
    changed at the first sign-in. Field problems raise KaopingError naming the field."""
    _require_login_manager(acting_user)
    phone = phone.strip()
    problems = _login_problems(name=name, phone=phone)
    grant = None
    if role not in Role.values:
        problems["role"] = _("Choose a role.")
    else:
        try:
            grant = _grant_resolve(role=role, scope=scope, acting_user=acting_user)
        except KaopingError as exc:
            problems.update({k: v[0] for k, v in exc.message_dict.items()})
    if problems:
        raise KaopingError(problems)
    _ensure_may_grant(acting_user, grant)
    with transaction.atomic():
        return _login_write(name=name, phone=phone, grant=grant, acting_user=acting_user)


def logins_import(*, data: bytes, filename: str, acting_user) -> list[tuple[object, str]]:
    """Create the logins of an Excel or CSV file (姓名, 手机号, 角色, 范围): all rows or none.

    Returns [(user, temporary password)] in the file's order. Raises ImportFailed naming every
    bad row and column, among them rows granting outside the actor's area or above its role.
    """
    _require_login_manager(acting_user)
    labels = LOGIN_HEADERS  # a row's problem names the column as the template heads it
    errors: list[RowError] = []
    good: list[tuple[str, str, Grant]] = []
    seen: dict[str, int] = {}
    for number, row in rows_with_header(data, filename, LOGIN_COLUMNS):
        if len(good) + len({e.row for e in errors}) >= IMPORT_MAX_ROWS:
            errors.append(
                RowError(
                    number,
                    "",
                    _("At most %(n)d logins per file; split the file.") % {"n": IMPORT_MAX_ROWS},
                )
            )
            break
        name, phone = row["name"].strip(), row["phone"].strip()
        problems = _login_problems(name=name, phone=phone)
        if "phone" not in problems and phone in seen:
            problems["phone"] = _("The number %(p)s appears already in row %(r)d.") % {
                "p": phone,
                "r": seen[phone],
            }
        seen.setdefault(phone, number)
        role = role_from_text(row["role"])
        grant = None
        if role is None:
            problems["role"] = _("Unknown role “%(r)s”: use one of the template's list.") % {
                "r": row["role"]
            }
        else:
            try:
                grant = _grant_resolve(role=role, scope=row["scope"], acting_user=acting_user)
            except KaopingError as exc:
                problems.update({k: v[0] for k, v in exc.message_dict.items()})
        if grant is not None and not may_grant(acting_user, grant.role, grant.code):
            problems["role"] = _("You may not grant %(role)s: it is above your own role there.") % {
                "role": Role(grant.role).label
            }
        for field in ("name", "phone", "role", "scope"):
            if field in problems:
                errors.append(RowError(number, labels[field], problems[field]))
        if not problems:
            good.append((name, phone, grant))
    if not errors and not good:
        errors.append(RowError(2, "", _("The file has no logins below its header.")))
    if errors:
        raise ImportFailed(errors)
    for _name, _phone, grant in good:
        _ensure_may_grant(acting_user, grant)
    with transaction.atomic():
        created = [
            _login_write(name=name, phone=phone, grant=grant, acting_user=acting_user)
            for name, phone, grant in good
        ]
        audit_record(
            actor=acting_user,
            action="accounts.logins.imported",
            region_code=_common_prefix([grant.code for _n, _p, grant in good]),
            after={"created": len(created), "file": filename[:100]},
            object_repr=_("login import"),
        )
    return created


def _common_prefix(codes: list[str]) -> str:
    prefix = codes[0] if codes else ""
    for code in codes[1:]:
        while not code.startswith(prefix):
            prefix = prefix[:-3] if len(prefix) > 6 else ""
    return prefix


def login_set_active(*, user, active: bool, acting_user) -> bool:
    """Enable or disable `user`'s login; a disabled login's sessions stop at their next request.
    Returns False when it already was so (nothing written)."""
    grants = _ensure_may_manage(acting_user, user)
    if not active and user.pk == acting_user.pk:
        raise KaopingError(_("You cannot disable your own login."))
    with transaction.atomic():
        changed = (
            get_user_model()
            .objects.filter(pk=user.pk, is_active=not active)
            .update(is_active=active)
        )
        if changed:
            user.is_active = active
            audit_record(
                actor=acting_user,
                action="accounts.login.enabled" if active else "accounts.login.disabled",
                obj=user,
                region_code=grants[0].code if grants else "",
                before={"is_active": not active},
                after={"is_active": active},
            )
    return bool(changed)


def login_password_reset(*, user, acting_user) -> str:
    """Give `user` a new temporary password (returned, to be shown once) that must be changed
    at the next sign-in; the login's open sessions end, since the password changed."""
    grants = _ensure_may_manage(acting_user, user)
    if user.pk == acting_user.pk:
        raise KaopingError(_("Change your own password on the password page instead."))
    password = temporary_password()
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        Profile.objects.update_or_create(user=user, defaults={"must_change_password": True})
        audit_record(
            actor=acting_user,
            action="accounts.login.password_reset",
            obj=user,
            region_code=grants[0].code if grants else "",
        )
    return password


def password_change(*, user, old_password: str, new_password: str, acting_user) -> None:
    """`user` changes its own password: the old one must be right and the new one pass the
    password validators (errors on "old_password" and "new_password")."""
    if (
        acting_user is None
        or not acting_user.is_authenticated
        or not acting_user.is_active
        or acting_user.pk != user.pk
    ):
        raise Refused()
    if not user.check_password(old_password):
        raise KaopingError({"old_password": _("Your current password is not right.")})
    if new_password == old_password:
        raise KaopingError(
            {"new_password": _("The new password must differ from the current one.")}
        )
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise KaopingError({"new_password": exc.messages}) from None
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        Profile.objects.update_or_create(user=user, defaults={"must_change_password": False})
        # Filed under the login's own area, so that the admins of that area see it.
        home = user.role_assignments.exclude(region=None).values_list("region__code", flat=True)
        audit_record(
            actor=acting_user,
            action="accounts.password.changed",
            obj=user,
            region_code=home.first() or "",
        )


def must_change_password(user) -> bool:
    """Whether `user` signs in with a temporary password it has to replace first."""
    return Profile.objects.filter(user=user, must_change_password=True).exists()
