"""The rounds' pages: the list with the form that opens a round, a round's configuration as
tables with its versions, one version's text, the example file to start from and the format's
page (docs/election.md).

A round is county-wide: the township staff and the departments' scorers of its county see these
pages read-only; loading a version and closing the round take `election.manage` on the round."""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import may
from kaoping.core.views import action_submit, form_submit
from kaoping.regions.models import Department, Level
from kaoping.regions.selectors import region_list
from kaoping.schemes.format_doc import format_doc_html

from .board import INDICATOR_LABELS
from .models import ElectionRound, RoundStatus, RoundVersion, StageReached
from .rounds import round_close, round_config_load, round_open
from .spec import INDICATORS, Better, spec_of

EXAMPLE = settings.BASE_DIR / "elections" / "ouhai-2026.yaml"
FORMAT_DOC = settings.BASE_DIR / "docs" / "election.md"
TEXT_MAX = 200_000  # characters; a real round's file is a few thousand


class RoundFileForm(forms.Form):
    """A round's configuration: an uploaded .yaml file, or the text pasted."""

    file = forms.FileField(label=gettext_lazy("Configuration file (YAML)"), required=False)
    text = forms.CharField(
        label=gettext_lazy("or paste its text"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "class": "mono"}),
    )

    def clean(self):
        data = super().clean()
        upload, text = data.get("file"), data.get("text") or ""
        if upload:
            if upload.size > TEXT_MAX * 4:
                raise forms.ValidationError({"file": _("The file is too large for a round.")})
            try:
                data["loaded"] = (upload.name, upload.read().decode("utf-8"))
            except UnicodeDecodeError:
                raise forms.ValidationError({"file": _("The file is not UTF-8 text.")}) from None
        elif text.strip():
            if len(text) > TEXT_MAX:
                raise forms.ValidationError({"text": _("The text is too long for a round.")})
            data["loaded"] = (_("pasted text"), text.replace("\r\n", "\n"))
        else:
            raise forms.ValidationError(_("Choose a file or paste its text."))
        return data


def _views(user) -> None:
    if not user_can(user, "election.view"):
        raise PermissionDenied


def _county_rounds(user):
    """The rounds of the counties `user` works in: a round is county-wide, seen from every
    township and department of its county."""
    return ElectionRound.objects.for_user(user, "election.view").select_related("county")


@login_required
def round_list(request):
    user = request.user
    _views(user)
    can_manage = user_can(user, "election.manage")
    county = region_list(user=user, action="election.manage", level=Level.COUNTY).first()
    form = RoundFileForm()
    if request.method == "POST":
        if not can_manage or county is None:
            raise PermissionDenied
        form = RoundFileForm(request.POST, request.FILES)

        def call(data):
            filename, text = data["loaded"]
            return round_open(county=county, text=text, filename=filename, acting_user=user)

        done = form_submit(
            request,
            form,
            call,
            redirect_to=lambda r: reverse("election:round", args=[r.pk]),
            message=lambda r: _("Opened: %(name)s") % {"name": r.name},
        )
        if done:
            return done
    rounds = list(
        _county_rounds(user).annotate(file_count=Count("files")).order_by("-opened_at", "-id")
    )
    return render(
        request,
        "election/rounds_list.html",
        {"rounds": rounds, "form": form, "can_manage": can_manage and county is not None},
    )


@login_required
def round_detail(request, pk: int):
    user = request.user
    _views(user)
    round_ = get_object_or_404(_county_rounds(user), pk=pk)
    manager = may(user, "election.manage", round_)
    can_manage = round_.status == RoundStatus.OPEN and manager
    form = RoundFileForm()
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        form = RoundFileForm(request.POST, request.FILES)

        def call(data):
            filename, text = data["loaded"]
            return round_config_load(round=round_, text=text, filename=filename, acting_user=user)

        done = form_submit(
            request,
            form,
            call,
            redirect_to=reverse("election:round", args=[round_.pk]),
            message=lambda v: _("Version %(n)d loaded.") % {"n": v.number},
        )
        if done:
            return done
        round_.refresh_from_db()
    spec = spec_of(round_)
    reached = dict(
        StageReached.objects.filter(file__round=round_)
        .values("stage")
        .annotate(n=Count("id"))
        .values_list("stage", "n")
    )
    departments = dict(Department.objects.filter(county=round_.county).values_list("code", "name"))
    thresholds = [
        {
            "code": code,
            "label": INDICATOR_LABELS.get(code, code),
            "threshold": spec.threshold(code),
            "lower": spec.threshold(code).better == Better.LOWER,
        }
        for code in INDICATORS
    ]
    return render(
        request,
        "election/rounds_detail.html",
        {
            "round": round_,
            "spec": spec,
            "stages": [(s, reached.get(s.code, 0)) for s in spec.stages],
            "file_count": round_.files.count(),
            "conditions": [
                (c, departments.get(c.department, c.department)) for c in spec.conditions
            ],
            "thresholds": thresholds,
            "versions": round_.versions.select_related("loaded_by"),
            "form": form,
            "can_manage": can_manage,
            "manager": manager,
            # The badge of the election day's stage, unless the stage's name already says it.
            "election_day_label": _("election day"),
        },
    )


@login_required
def round_version(request, pk: int):
    user = request.user
    _views(user)
    version = get_object_or_404(
        RoundVersion.objects.select_related("round", "loaded_by").filter(
            round__in=_county_rounds(user)
        ),
        pk=pk,
    )
    return render(request, "election/rounds_version.html", {"version": version})


@login_required
@require_POST
def round_close_view(request, pk: int):
    user = request.user
    _views(user)
    round_ = get_object_or_404(_county_rounds(user), pk=pk)
    if not may(user, "election.manage", round_):
        raise PermissionDenied
    here = reverse("election:round", args=[round_.pk])
    return action_submit(
        request,
        lambda: round_close(round=round_, acting_user=user),
        redirect_to=here,
        success=_("The round is closed; its files and sheets are kept, read-only."),
    )


@login_required
def round_example(request):
    _views(request.user)
    if not EXAMPLE.exists():
        raise Http404
    return FileResponse(
        EXAMPLE.open("rb"),
        as_attachment=True,
        filename=EXAMPLE.name,
        content_type="application/yaml; charset=utf-8",
    )


@login_required
def round_format(request):
    """How a round's configuration file is written (docs/election.md), linked from the rounds'
    pages and from a refused upload."""
    _views(request.user)
    html = format_doc_html(FORMAT_DOC)
    if html is None:
        raise Http404
    return render(request, "election/rounds_format.html", {"doc": html})


urls = [
    path("election/rounds/", round_list, name="rounds"),
    path("election/rounds/format/", round_format, name="format"),
    path("election/rounds/example.yaml", round_example, name="round_example"),
    path("election/rounds/<int:pk>/", round_detail, name="round"),
    path("election/rounds/<int:pk>/close/", round_close_view, name="round_close"),
    path("election/rounds/versions/<int:pk>/", round_version, name="round_version"),
]
