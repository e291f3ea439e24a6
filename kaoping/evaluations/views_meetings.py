"""Meeting sign-in's pages: the list of meetings with the form that opens one, a meeting's page
for the projector (its QR code big, the count polled every 5 s, who signed in, 补签, the close,
then the absent and the entries written), and the public page a member's phone opens from the
QR code (`m/<code>/`, no login).

The meetings' pages take `evaluation.meeting` on the meeting (out of the user's area 404, in
it but not allowed 403). Names on the meeting's page are masked: it is shown on a screen in
the room; the 补签 select alone names members in full, for the secretary to pick one.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kaoping.accounts.permissions import user_can
from kaoping.accounts.scoping import get_scoped_or_404
from kaoping.core.errors import ImportFailed, KaopingError
from kaoping.core.http import client_address
from kaoping.core.qr import qr_svg
from kaoping.core.views import action_submit, form_flash_errors, form_submit

from .forms_meetings import MeetingOpenForm, SignInForForm, SignInForm
from .meetings import (
    SignInThrottled,
    attendance_items,
    branch_choices,
    branch_members,
    branch_sizes,
    meeting_absent,
    meeting_attendances,
    meeting_close,
    meeting_open,
    meeting_sign_in,
    meeting_sign_in_for,
    meetings_for,
    sign_in_ended,
    sign_in_last_day,
)
from .models import Meeting

LIST_LIMIT = 100  # the newest meetings; a branch holds one or two a month


def _meeting(request, pk: int) -> Meeting:
    return get_scoped_or_404(
        Meeting.objects.select_related("village", "scheme"),
        request.user,
        "evaluation.meeting",
        pk=pk,
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_list(request):
    user = request.user
    if not user_can(user, "evaluation.meeting"):
        raise PermissionDenied
    branches = branch_choices(user)
    items = attendance_items(list({b.village.pk: b.village for b in branches}.values()))
    can_open = bool(branches and items)
    form = MeetingOpenForm(request.POST or None, branches=branches, items=items)
    if request.method == "POST":
        if not can_open:
            raise PermissionDenied

        def call(data):
            branch, item = data["branch_choice"], data["item_choice"]
            return meeting_open(
                village=branch.village,
                branch=branch.branch,
                scheme=item.scheme,
                item_code=item.code,
                title=data["title"],
                held_on=data["held_on"],
                acting_user=user,
            )

        done = form_submit(
            request,
            form,
            call,
            redirect_to=lambda m: reverse("evaluations:meeting", args=[m.pk]),
            message=lambda m: _("Opened for sign-in: %(title)s") % {"title": m.title},
            fields={"village": "branch", "item_code": "item"},
        )
        if done:
            return done
    meetings = list(meetings_for(user)[:LIST_LIMIT])
    sizes = branch_sizes(meetings)
    for meeting in meetings:
        meeting.expected = sizes.get((meeting.village_id, meeting.branch), 0)
    return render(
        request,
        "evaluations/meeting_list.html",
        {
            "meetings": meetings,
            "form": form,
            "can_open": can_open,
            "no_items": bool(branches) and not items,
            "several_villages": len({b.village.pk for b in branches}) > 1,
        },
    )


def _attendance_context(meeting: Meeting) -> dict:
    attendances = meeting_attendances(meeting)
    return {
        "meeting": meeting,
        "attendances": attendances,
        "signed_in": len(attendances),
        "expected": branch_members(meeting).count(),
    }


@login_required
@require_GET
def meeting_detail(request, pk: int):
    meeting = _meeting(request, pk)
    context = _attendance_context(meeting)
    absent = meeting_absent(meeting)
    sign_in_url = request.build_absolute_uri(reverse("evaluations:sign_in", args=[meeting.code]))
    context.update(
        {
            "absent": absent,
            "sign_in_url": sign_in_url,
            "qr": qr_svg(sign_in_url, omitsize=True)
            if meeting.open and not sign_in_ended(meeting)
            else "",
            "sign_in_for": SignInForForm(members=absent) if meeting.open and absent else None,
            "item_name": _item_name(meeting),
            "ended": meeting.open and sign_in_ended(meeting),
            "last_day": sign_in_last_day(meeting),
        }
    )
    return render(request, "evaluations/meeting_detail.html", context)


def _item_name(meeting: Meeting) -> str:
    version = meeting.scheme.latest_version()
    node = version.nodes.filter(code=meeting.item_code).values_list("name", flat=True).first()
    return node or meeting.item_code


@login_required
@require_GET
def meeting_attendance(request, pk: int):
    """The count and who signed in, polled by the meeting's page every 5 s while it is open."""
    meeting = _meeting(request, pk)
    return render(request, "evaluations/meeting_attendance.html", _attendance_context(meeting))


@login_required
@require_POST
def meeting_close_view(request, pk: int):
    meeting = _meeting(request, pk)
    user = request.user

    def call():
        try:
            return meeting_close(meeting=meeting, acting_user=user)
        except ImportFailed as exc:
            # The same refusal for every attendee (a finalised period, an item no longer in the
            # scheme): said once, and the meeting stays open.
            problems = list(dict.fromkeys(e.message for e in exc.errors))
            raise KaopingError(
                [_("The attendance could not be counted: %(p)s") % {"p": p} for p in problems]
            ) from exc

    def success(written):
        return ngettext(
            "Sign-in is closed; %(n)d attendance entry was written.",
            "Sign-in is closed; %(n)d attendance entries were written.",
            len(written),
        ) % {"n": len(written)}

    return action_submit(
        request,
        call,
        redirect_to=reverse("evaluations:meeting", args=[meeting.pk]),
        success=success,
    )


@login_required
@require_POST
def meeting_sign_in_for_view(request, pk: int):
    meeting = _meeting(request, pk)
    user = request.user
    here = reverse("evaluations:meeting", args=[meeting.pk])
    form = SignInForForm(request.POST, members=meeting_absent(meeting))
    if not form.is_valid():
        form_flash_errors(request, form)
        return HttpResponseRedirect(here)
    member = form.cleaned_data["member_obj"]
    return action_submit(
        request,
        lambda: meeting_sign_in_for(meeting=meeting, member=member, acting_user=user),
        redirect_to=here,
        success=_("%(name)s is signed in.") % {"name": member.person.name},
    )


def _sign_in_closed(request, meeting: Meeting):
    """Closed by the secretary, or its days over while still open (the secretary is to close it)."""
    return render(
        request,
        "evaluations/sign_in_closed.html",
        {
            "meeting": meeting,
            "ended": meeting.open,
            "last_day": sign_in_last_day(meeting),
        },
    )


@require_http_methods(["GET", "POST"])
def sign_in(request, code: str):
    """A member's phone, from the meeting's QR code: name and the last four digits of the phone.

    The service runs outside any transaction of this view: the count of a wrong guess must
    survive the refusal it leads to."""
    meeting = Meeting.objects.select_related("village").filter(code=code).first()
    if meeting is None:
        raise Http404
    if not meeting.open or sign_in_ended(meeting):
        return _sign_in_closed(request, meeting)
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            attendance = meeting_sign_in(
                meeting=meeting,
                name=form.cleaned_data["name"],
                phone_tail=form.cleaned_data["phone_tail"],
                address=client_address(request),
            )
        except KaopingError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
                status = 400
            else:
                meeting.refresh_from_db(fields=["open"])
                if not meeting.open or sign_in_ended(meeting):
                    return _sign_in_closed(request, meeting)
                form.add_error(None, exc.messages)
                status = 429 if isinstance(exc, SignInThrottled) else 400
        else:
            return render(
                request,
                "evaluations/sign_in_done.html",
                {"meeting": meeting, "name": attendance.member.person.masked_name},
            )
    elif request.method == "POST":
        status = 400
    return render(
        request, "evaluations/sign_in.html", {"meeting": meeting, "form": form}, status=status
    )
