"""The village file's pages (一村一档): the list of files and one file, with the forms of what
the user may do there (each posts to its own path and comes back to the file)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kaoping.accounts.scoping import get_scoped_or_404, may
from kaoping.core.views import action_submit, form_flash_errors, form_submit
from kaoping.regions.models import Department

from . import services
from .file_forms import (
    FileFilterForm,
    FileForm,
    HelpVisitForm,
    IssueClearForm,
    IssueForm,
    KeyVillageForm,
    ResultForm,
    StageForm,
    TalkForm,
    TeamMemberForm,
)
from .file_selectors import file_for, file_page, files_list
from .models import Talk, TeamMember, VillageIssue

# ─── the list ───


@login_required
def file_list(request):
    user = request.user
    # The filters are read leniently: an unknown value shows everything rather than an error.
    township = request.GET.get("township", "")[:20]
    stage = request.GET.get("stage", "")[:40]
    key_only = request.GET.get("key") in ("on", "1", "true")
    rows, townships, spec = files_list(user, township=township, key_only=key_only, stage=stage)
    if spec is None and not may_view_any(user):
        raise PermissionDenied
    form = FileFilterForm(request.GET or None, townships=townships, spec=spec)
    return render(
        request,
        "election/file_list.html",
        {"rows": rows, "form": form, "spec": spec, "filtered": bool(township or stage or key_only)},
    )


def may_view_any(user) -> bool:
    from kaoping.accounts.permissions import user_can

    return user_can(user, "election.view") or user_can(user, "election.help")


# ─── one file ───


def _url(file, anchor: str = "") -> str:
    return reverse("election:file", args=[file.pk]) + (f"#{anchor}" if anchor else "")


def _page(request, file, status=200, **bound):
    user = request.user
    page = file_page(file)
    spec = page.spec
    may_record = may(user, "election.record", file)
    may_manage = may(user, "election.manage", file)
    may_help = services.may_help(user, file)
    next_code = page.next_stage.code if page.next_stage else ""
    for lst in page.lists:  # one date per open issue, each with its own id
        for row in lst.rows:
            row.clear_form = IssueClearForm(auto_id=f"id_clear{row.issue.pk}-%s")
    result_initial = {
        "elected_on": file.elected_on
        or (page.election_day.reached_on if page.election_day else None),
        "first_time_success": bool(file.first_time_success),
        "intent_realised": bool(file.intent_realised),
        "one_shoulder_done": bool(file.one_shoulder_done),
    }
    context = {
        "file": file,
        "page": page,
        "may_record": may_record,
        "may_manage": may_manage,
        "may_help": may_help,
        "stage_form": bound.get("stage") or StageForm(spec=spec, next_stage=next_code),
        "talk_form": bound.get("talk") or TalkForm(),
        "issue_form": bound.get("issue") or IssueForm(spec=spec),
        "team_form": bound.get("team") or TeamMemberForm(spec=spec),
        "visit_form": bound.get("visit") or HelpVisitForm(),
        "file_form": bound.get("file")
        or FileForm(
            initial={
                "party_members_total": file.party_members_total,
                "representatives_total": file.representatives_total,
                "key_persons_total": file.key_persons_total,
                "one_shoulder_intended": file.one_shoulder_intended,
                "help_plan": file.help_plan,
            }
        ),
        "key_form": bound.get("key")
        or KeyVillageForm(
            departments=_departments(file),
            initial={"is_key": file.is_key, "paired_department": file.paired_department_id},
        ),
        "result_form": bound.get("result") or ResultForm(initial=result_initial),
        "bound": set(bound),
    }
    return render(request, "election/file_detail.html", context, status=status)


def _departments(file):
    return Department.objects.filter(county_id=file.round.county_id).order_by("code")


@login_required
def file_detail(request, pk: int):
    return _page(request, file_for(request.user, pk))


def _file_for(request, pk: int, action: str = ""):
    file = file_for(request.user, pk)
    if action and not may(request.user, action, file):
        raise PermissionDenied
    return file


@login_required
@require_POST
def file_stage(request, pk: int):
    file = _file_for(request, pk, action="election.record")
    form = StageForm(request.POST, spec=file_page(file).spec)
    done = form_submit(
        request,
        form,
        lambda d: services.stage_record(
            file=file,
            stage=d["stage"],
            reached_on=d["reached_on"],
            note=d["note"],
            acting_user=request.user,
        ),
        redirect_to=_url(file, "stages"),
        message=lambda row: (
            _("Stage recorded: %(stage)s.")
            % {"stage": file_page(file).spec.stage_names()[row.stage]}
        ),
    )
    return done or _page(request, file, status=400, stage=form)


@login_required
@require_POST
def file_stage_undo(request, pk: int):
    file = _file_for(request, pk, action="election.record")
    return action_submit(
        request,
        lambda: services.stage_undo(file=file, acting_user=request.user),
        redirect_to=_url(file, "stages"),
        success=_("The last stage recorded was removed."),
    )


@login_required
@require_POST
def file_update(request, pk: int):
    file = _file_for(request, pk, action="election.record")
    form = FileForm(request.POST)
    done = form_submit(
        request,
        form,
        lambda d: services.file_update(file=file, acting_user=request.user, **d),
        redirect_to=_url(file, "talks"),
        message=_("The file is saved."),
    )
    return done or _page(request, file, status=400, file=form)


@login_required
@require_POST
def file_key(request, pk: int):
    file = _file_for(request, pk, action="election.manage")
    form = KeyVillageForm(request.POST, departments=_departments(file))
    done = form_submit(
        request,
        form,
        lambda d: services.key_village_set(
            file=file,
            is_key=d["is_key"],
            paired_department=d["paired_department"],
            acting_user=request.user,
        ),
        redirect_to=_url(file, "help"),
        message=_("Key village and paired department saved."),
    )
    return done or _page(request, file, status=400, key=form)


@login_required
@require_POST
def file_team(request, pk: int):
    file = _file_for(request, pk, action="election.manage")
    form = TeamMemberForm(request.POST, spec=file_page(file).spec)
    done = form_submit(
        request,
        form,
        lambda d: services.team_member_add(file=file, acting_user=request.user, **d),
        redirect_to=_url(file, "team"),
        message=_("Team member added."),
    )
    return done or _page(request, file, status=400, team=form)


@login_required
@require_POST
def file_team_remove(request, pk: int):
    member = get_scoped_or_404(
        TeamMember.objects.select_related("file"), request.user, "election.manage", pk=pk
    )
    return action_submit(
        request,
        lambda: services.team_member_remove(member=member, acting_user=request.user),
        redirect_to=_url(member.file, "team"),
        success=_("Team member removed."),
    )


@login_required
@require_POST
def file_visit(request, pk: int):
    file = file_for(request.user, pk)
    if not services.may_help(request.user, file):
        raise PermissionDenied
    form = HelpVisitForm(request.POST)
    done = form_submit(
        request,
        form,
        lambda d: services.help_visit_record(file=file, acting_user=request.user, **d),
        redirect_to=_url(file, "help"),
        message=_("Help visit recorded."),
    )
    return done or _page(request, file, status=400, visit=form)


@login_required
@require_POST
def file_issue(request, pk: int):
    file = _file_for(request, pk, action="election.record")
    form = IssueForm(request.POST, spec=file_page(file).spec)
    done = form_submit(
        request,
        form,
        lambda d: services.issue_add(file=file, acting_user=request.user, **d),
        redirect_to=_url(file, "issues"),
        message=_("Issue added."),
    )
    return done or _page(request, file, status=400, issue=form)


@login_required
@require_POST
def file_issue_clear(request, pk: int):
    issue = get_scoped_or_404(
        VillageIssue.objects.select_related("file"), request.user, "election.record", pk=pk
    )
    form = IssueClearForm(request.POST)
    target = _url(issue.file, "issues")
    if not form.is_valid():
        form_flash_errors(request, form)
        return HttpResponseRedirect(target)
    return action_submit(
        request,
        lambda: services.issue_clear(
            issue=issue, done_on=form.cleaned_data["done_on"], acting_user=request.user
        ),
        redirect_to=target,
        success=_("Issue cleared."),
    )


@login_required
@require_POST
def file_talk(request, pk: int):
    file = _file_for(request, pk, action="election.record")
    form = TalkForm(request.POST)
    done = form_submit(
        request,
        form,
        lambda d: services.talk_record(file=file, acting_user=request.user, **d),
        redirect_to=_url(file, "talks"),
        message=lambda talk: _("Talk with %(name)s recorded.") % {"name": talk.person_name},
    )
    return done or _page(request, file, status=400, talk=form)


@login_required
@require_POST
def file_talk_remove(request, pk: int):
    talk = get_scoped_or_404(
        Talk.objects.select_related("file"), request.user, "election.record", pk=pk
    )
    return action_submit(
        request,
        lambda: services.talk_remove(talk=talk, acting_user=request.user),
        redirect_to=_url(talk.file, "talks"),
        success=_("Talk removed."),
    )


@login_required
@require_POST
def file_result(request, pk: int):
    file = _file_for(request, pk, action="election.record")
    form = ResultForm(request.POST)
    done = form_submit(
        request,
        form,
        lambda d: services.result_record(file=file, acting_user=request.user, **d),
        redirect_to=_url(file, "result"),
        message=_("The result is recorded."),
    )
    return done or _page(request, file, status=400, result=form)


urls = [
    path("election/files/", file_list, name="files"),
    path("election/files/<int:pk>/", file_detail, name="file"),
    path("election/files/<int:pk>/stage/", file_stage, name="file_stage"),
    path("election/files/<int:pk>/stage/undo/", file_stage_undo, name="file_stage_undo"),
    path("election/files/<int:pk>/edit/", file_update, name="file_update"),
    path("election/files/<int:pk>/key/", file_key, name="file_key"),
    path("election/files/<int:pk>/team/", file_team, name="file_team"),
    path("election/team/<int:pk>/remove/", file_team_remove, name="file_team_remove"),
    path("election/files/<int:pk>/visit/", file_visit, name="file_visit"),
    path("election/files/<int:pk>/issue/", file_issue, name="file_issue"),
    path("election/issues/<int:pk>/clear/", file_issue_clear, name="file_issue_clear"),
    path("election/files/<int:pk>/talk/", file_talk, name="file_talk"),
    path("election/talks/<int:pk>/remove/", file_talk_remove, name="file_talk_remove"),
    path("election/files/<int:pk>/result/", file_result, name="file_result"),
]
