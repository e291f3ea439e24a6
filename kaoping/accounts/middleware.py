"""A login signed in with a temporary password goes nowhere but the password page until it has
chosen its own (issue: a password someone else saw must not stay in use)."""

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from .services import must_change_password

# Set at sign-in, so the check costs no query on every request; a reset ends the login's
# sessions (the password hash changes), so the next sign-in reads the flag again.
SESSION_KEY = "kaoping_must_change_password"


@receiver(user_logged_in, dispatch_uid="kaoping.accounts.must_change_password")
def _remember_must_change(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        if must_change_password(user):
            request.session[SESSION_KEY] = True
        else:
            request.session.pop(SESSION_KEY, None)


def password_changed(request) -> None:
    """Let the session go everywhere again (the password page calls this once it is changed)."""
    request.session.pop(SESSION_KEY, None)


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_KEY) and request.user.is_authenticated:
            allowed = {reverse("accounts:password_change"), reverse("logout")}
            if request.path not in allowed:
                if request.headers.get("HX-Request"):
                    # A fragment (a badge in the menu) loads nothing until then.
                    return HttpResponse(status=204)
                messages.warning(request, _("Choose your own password before you go on."))
                return HttpResponseRedirect(reverse("accounts:password_change"))
        return self.get_response(request)
