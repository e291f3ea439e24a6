"""Acceptance: every item of every shipped scheme can be recorded on the page of the role that
records it, with its evidence where the item requires one.

Who records what follows the items' `owner` in the scheme files:

* `role:grid_member` (农户积分): the grid member, on the grid's batch form (dave);
* `role:township_staff`, and items without an owner (千分制): township staff (bob);
* `dept:<code>` (六比六争, 千分制 team, 红黄旗): a scorer of the department with that code
  (made here for 南山社区 and 西溪村; a department records only the items given to it);
* `role:branch_committee` (党员积分): there is no such login role; the village secretary
  records for the branch (carol);
* `role:village_secretary` (网格员月度考评): the village secretary (carol).

Items scored from a metric are computed by the close, never typed in, so no form offers them.
"""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.scoping import system_actor
from kaoping.ledger.models import Entry, SealedSpan
from kaoping.ledger.testing import png_upload
from kaoping.people.models import Subject
from kaoping.periods.tests.close_harness import load_sources
from kaoping.regions.models import Department
from kaoping.schemes.models import SchemeLevel, SchemeNode
from kaoping.schemes.services import scheme_load
from kaoping.schemes.spec import OVERLAY_MARK

from .ledger_fixture import GRID

pytestmark = pytest.mark.django_db

SHIPPED = sorted((Path(django_settings.BASE_DIR) / "schemes").glob("*.yaml"))
ROLE_OF_OWNER = {
    "role:grid_member": "dave",
    "role:township_staff": "bob",
    "role:branch_committee": "carol",
    "role:village_secretary": "carol",
    "": "bob",
}


def recorder_of(county, owner: str) -> str:
    if not owner.startswith("dept:"):
        return ROLE_OF_OWNER[owner]
    code = owner.removeprefix("dept:")
    username = f"dept-{code}"
    if username not in county.users:
        department = Department.objects.create(
            county=county.region("330304"), code=code, name=f"部门 {code}"
        )
        department.villages.set([county.region("330304001002"), county.region("330304002001")])
        user = get_user_model().objects.create_user(username=username, password="pw")
        RoleAssignment.objects.create(user=user, role=Role.DEPARTMENT_SCORER, department=department)
        county.users[username] = user
    return username


def test_the_shipped_schemes_are_all_here():
    assert {p.name for p in SHIPPED} >= {"liubi-liuzheng.yaml", "household-points.yaml"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_item_is_offered_and_recorded_by_its_role(path, county, client_for):
    load_sources(county, path.read_text(encoding="utf-8"))  # qianfen-team reads leitai-biwu
    version, _ = scheme_load(
        text=path.read_text(encoding="utf-8"),
        filename=path.name,
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    scheme = version.scheme
    SealedSpan.objects.filter(scheme=scheme).delete()
    day = timezone.localdate()
    nodes = list(
        SchemeNode.objects.filter(version=version, is_item=True)
        .exclude(aggregate="metric")
        .filter(metric="")
        .order_by("variant", "position")
    )
    assert nodes, path.name
    # A tree with a township's or village's overlays (`<variant>@<region>`) repeats the county's
    # items: record what it adds, for a subject of that region (dave's grid is in 东岭村).
    base_codes = {n.code for n in nodes if n.variant == ""}
    nodes = [n for n in nodes if OVERLAY_MARK not in n.variant or n.code not in base_codes]
    levels = {}
    for level in SchemeLevel.objects.filter(version=version).order_by("-factor"):
        levels.setdefault((level.variant, level.item_code), level.label)
    recorded = 0
    by_recorder: dict[tuple[str, str], list[SchemeNode]] = {}
    for node in nodes:
        by_recorder.setdefault((recorder_of(county, node.owner or ""), node.variant), []).append(
            node
        )
    for (username, variant), group in by_recorder.items():
        user = county.users[username]
        client = client_for(county, username)
        subjects = Subject.objects.for_user(user, "entry.record").filter(
            kind=scheme.subject_kind, active=True
        )
        if username == "dave":
            subjects = subjects.filter(region__code=GRID)
        subject = subjects.order_by("pk").first()
        assert subject is not None, f"{path.name}: {username} has no {scheme.subject_kind}"
        Subject.objects.filter(pk=subject.pk).update(track=variant.split(OVERLAY_MARK)[0])
        if username == "dave":
            recorded += _record_on_grid_form(client, scheme, subject, group, day)
            continue
        url = reverse("ledger:entry_new", args=[subject.pk, scheme.code])
        page = client.get(url)
        assert page.status_code == 200, f"{path.name}: {username} cannot open the form"
        offered = {code for code, _label in page.context["form"].fields["item_code"].choices}
        missing = [n.name for n in group if n.code not in offered]
        assert not missing, f"{path.name} ({variant or '-'}): {username} is not offered {missing}"
        html = page.content.decode()
        assert 'name="evidence"' in html and 'enctype="multipart/form-data"' in html
        for node in group:
            data = {
                "item_code": node.code,
                "quantity": "1",
                "label": levels.get((node.variant, node.code), ""),
                "occurred_on": day.isoformat(),
                "note": "",
                "idempotency_key": f"{scheme.code}-{node.variant}-{node.code}",
            }
            if node.evidence_required:
                data["evidence"] = [png_upload(f"{node.code}.png", (recorded % 250, 9, 9))]
            response = client.post(url, data)
            assert response.status_code == 302, (
                f"{path.name}: {username} could not record {node.name}: "
                f"{response.context['form'].errors if response.context else response.status_code}"
            )
            recorded += 1
    entries = Entry.objects.filter(scheme=scheme)
    assert entries.count() == recorded == len(nodes)
    needing = {n.code for n in nodes if n.evidence_required}
    for entry in entries.filter(item_code__in=needing).prefetch_related("evidence"):
        assert len(entry.evidence.all()) == 1, entry.item_code


def _record_on_grid_form(client, scheme, subject, group, day) -> int:
    url = reverse("ledger:grid_record", args=[GRID, scheme.code])
    page = client.get(url)
    html = page.content.decode()
    offered = {i.code for i in page.context["items"]}
    assert not [n.name for n in group if n.code not in offered]
    assert f'name="evidence_{subject.pk}"' in html
    for index, node in enumerate(group):
        data = {
            "form_key": f"k-{node.code}",
            "occurred_on": day.isoformat(),
            f"item_{subject.pk}": node.code,
            f"qty_{subject.pk}": "1",
        }
        if node.evidence_required:
            data[f"evidence_{subject.pk}"] = png_upload(f"{node.code}.png", (index % 250, 7, 7))
        response = client.post(url, data)
        assert response.status_code == 302, (
            node.name,
            [s.row_errors for s in response.context["subjects"]] if response.context else None,
        )
    return len(group)
