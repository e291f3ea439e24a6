from functools import lru_cache

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.translation import get_language

from kaoping.accounts.models import Role
from kaoping.accounts.permissions import roles_of, scopes_for, user_can
from kaoping.inspections.selectors import user_may_inspect

from .dashboard import has_dashboard


def navigation(request):
    """The console menu: only what the signed-in user may use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    nav = {
        "regions": user_can(user, "region.view"),
        "search": user_can(user, "people.view") or user_can(user, "region.view"),
        "audit": user_can(user, "audit.view"),
        "schemes": user_can(user, "scheme.view"),
        "outcomes": user_can(user, "outcome.view"),
        "dashboard": has_dashboard(user),
        "reports": user_can(user, "report.view"),
        "election": user_can(user, "election.view"),
        "election_sheets": user_can(user, "election.sheet"),
        "election_rounds": user_can(user, "election.manage"),
        "evaluations": user_can(user, "evaluation.view"),
        # A department enters its findings about persons even without paired villages.
        "findings": Role.DEPARTMENT_SCORER in roles_of(user),
        "declare": user_can(user, "entry.declare"),
        "review": user_can(user, "entry.review"),
        "objections": user_can(user, "entry.review"),
        "my_entries": user_can(user, "entry.record"),
        "my_points": user_can(user, "store.request"),
        # Staff's list of problems; a villager answers on /my/problems/ instead.
        "problems": any(s.household_id is None for s in scopes_for(user, "problem.view")),
        "my_problems": any(s.household_id for s in scopes_for(user, "problem.confirm")),
        "round": user_can(user, "visit.record"),
        # Inspections are made from above the place inspected (kaoping/inspections).
        "inspections": user_may_inspect(user),
        "coverage": user_can(user, "visit.view"),
        "store_counter": user_can(user, "store.redeem"),
        "stores": user_can(user, "store.report") or user_can(user, "store.manage"),
        "imports": user_can(user, "entry.record"),
        "region_import": user_can(user, "region.change"),
        "people_import": user_can(user, "people.import"),
        "household_tags": user_can(user, "people.configure"),
        "people_appoint": user_can(user, "people.appoint"),
        "logins": user_can(user, "login.view"),
        # The Django admin is the system superuser's alone (accounts/admin_site.py).
        "admin": user.is_active and user.is_superuser,
    }
    return {
        "nav": nav,
        "menu": menu_links(nav),
        # The evaluations' tabs (evaluations/_tabs.html).
        "nav_evaluation": {
            "plans": user_can(user, "evaluation.manage"),
            "meetings": user_can(user, "evaluation.meeting"),
            "services": user_can(user, "evaluation.service"),
        },
    }


# Sets of menu links kept per process: one per combination of roles in use, a handful.
MENU_KEPT = 64


def menu_links(nav: dict[str, bool]) -> str:
    """The menu's links for `nav`, rendered once per process for each set of links, language
    and script prefix: they depend on nothing else, and rendering them (thirty links, each
    reversed and translated) was 0.7–1.5 ms of every console page. Rendered afresh with DEBUG
    on, so that an edit of the template shows at once."""
    shown = tuple(sorted(name for name, on in nav.items() if on))
    if settings.DEBUG:
        return _menu_render(get_language(), get_script_prefix(), shown)
    return _menu_kept(get_language(), get_script_prefix(), shown)


def _menu_render(language: str, prefix: str, shown: tuple[str, ...]) -> str:
    # `language` and `prefix` are the active ones, passed to be part of the key.
    return render_to_string("console/_menu.html", {"links": dict.fromkeys(shown, True)})


_menu_kept = lru_cache(maxsize=MENU_KEPT)(_menu_render)
