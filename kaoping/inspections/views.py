"""Pages of inspections (随机抽查): the inspector's list of units for one sampled item and period,
drawing a unit, and the draw's page where the results are recorded and the draw can be replayed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kaoping.accounts.scoping import get_scoped_or_404
from kaoping.core.views import form_submit
from kaoping.people.models import Subject
from kaoping.schemes.calendar import label_for, period_dates
from kaoping.schemes.models import Scheme
from kaoping.schemes.sampling import sample_figure, sample_size

from . import selectors, services
from .forms import DrawForm, ResultsForm

ROUNDING_TEXT = {
    "up": gettext_lazy("rounded up"),
    "down": gettext_lazy("rounded down"),
    "nearest": gettext_lazy("rounded to the nearest, half up"),
}
MEASURE_TEXT = {
    "pass_rate": gettext_lazy("pass rate, %"),
    "mean": gettext_lazy("mean level × 100"),
}


def _rule_texts(sample, population: int) -> dict:
    share = sample.share
    return {
        "share_percent": (share * 100).normalize() if share is not None else None,
        "exact": (share * population).normalize() if share is not None else None,
        "rounded": sample_size(sample.model_copy(update={"min": None, "max": None}), population),
        "rounding_text": ROUNDING_TEXT.get(str(sample.rounding), ""),
        "measure_text": MEASURE_TEXT[str(sample.measure)],
    }


@login_required
def home(request):
    """The units the user may inspect for one sampled item and period, each with its draw."""
    choices = [
        (scheme, item)
        for scheme, items in selectors.sampled_schemes(request.user)
        for item in items
    ]
    context = {"choices": choices}
    if choices:
        wanted = (request.GET.get("scheme", ""), request.GET.get("item", ""))
        scheme, item = next(((s, i) for s, i in choices if (s.code, i.code) == wanted), choices[0])
        spec = scheme.latest_version().spec()
        label = request.GET.get("label", "").strip()
        try:
            period_dates(spec.cadence.value, label)
        except ValueError:
            label = label_for(spec.cadence.value, timezone.localdate())
        context |= {
            "scheme": scheme,
            "item": item,
            "label": label,
            "rows": selectors.unit_rows(request.user, scheme, spec, item, label),
        }
    return render(request, "inspections/home.html", context)


@login_required
@require_POST
def draw_make(request):
    """Draw a unit (the list's button); an existing draw is opened as it is."""
    form = DrawForm(request.POST)
    if not form.is_valid():
        raise Http404
    data = form.cleaned_data
    scheme = get_scoped_or_404(
        Scheme.objects.all(), request.user, "scheme.view", code=data["scheme"]
    )
    subject = get_scoped_or_404(
        Subject.objects.select_related("region"), request.user, "entry.view", pk=data["subject"]
    )
    back = (
        reverse("inspections:home")
        + f"?scheme={scheme.code}&item={data['item']}&label={data['label']}"
    )
    response = form_submit(
        request,
        form,
        lambda d: services.draw_make(
            scheme=scheme,
            period_label=d["label"],
            subject=subject,
            item_code=d["item"],
            acting_user=request.user,
        ),
        redirect_to=lambda draw: reverse("inspections:draw", args=[draw.pk]),
    )
    if response is None:
        for error in form.non_field_errors():
            messages.error(request, error)
        return HttpResponseRedirect(back)
    return response


@login_required
def draw(request, pk: int):
    """One draw: the rule, the seed and how to replay it; the drawn sub-units with a choice each
    for whoever may inspect the unit, read-only for the rest of its area."""
    found = selectors.draw_for(request.user, pk)
    spec = found.scheme.latest_version().spec()
    item = selectors.sampled_item(spec, found.item_code)
    may_record = selectors.may_inspect(request.user, found.subject, spec, item)
    rows = selectors.member_rows(request.user, found)
    if not may_record and any(not row.level for row in rows):
        # An inspection is unannounced: the unit's own staff see whom it drew once every one
        # of them has been inspected, not before.
        raise PermissionDenied
    initial = {f"m_{r.number}": r.level for r in rows} | {f"n_{r.number}": r.note for r in rows}
    form = ResultsForm(
        request.POST or None,
        initial=initial,
        members=list(found.members),
        levels=list(item.sample.levels),
    )
    if request.method == "POST":
        response = form_submit(
            request,
            form,
            lambda _d: services.results_record(
                draw=found, results=form.results(), acting_user=request.user
            ),
            redirect_to=reverse("inspections:draw", args=[found.pk]),
            message=lambda n: _("%(n)d results saved.") % {"n": n},
        )
        if response is not None:
            return response
    recorded = [row.level for row in rows if row.level]
    figure = sample_figure(item.sample, recorded)
    for row in rows:
        row.field = form[f"m_{row.number}"]
        row.note_field = form[f"n_{row.number}"]
    return render(
        request,
        "inspections/draw.html",
        {
            "draw": found,
            "item": item,
            "sample": item.sample,
            "rows": rows,
            "recorded": len(recorded),
            "figure": figure,
            "form": form,
            "may_record": may_record,
            "population": ", ".join(f'"{n}"' for n in found.population),
            **_rule_texts(item.sample, found.population_size),
        },
    )
