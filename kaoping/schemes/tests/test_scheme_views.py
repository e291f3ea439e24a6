"""The schemes' list: who sees it, loading a file, and its query count."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kaoping.accounts.scoping import system_actor
from kaoping.schemes.models import Scheme
from kaoping.schemes.services import scheme_load

pytestmark = pytest.mark.django_db

SCHEME = """\
code: {code}
version: {version}
name: 测试考评{code}
subject_kind: village
cadence: month
tree:
  - code: A
    name: 党建
    max: 50
    children:
      - {{code: A1, name: 开会, rule: count, points: 5, cap: 15}}
"""


def scheme_text(code: str = "test-village", version: int = 1) -> str:
    return SCHEME.format(code=code, version=version)


def load(county, code: str = "test-village") -> Scheme:
    version, _ = scheme_load(
        text=scheme_text(code),
        filename=f"{code}.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    return version.scheme


def upload(text: str | bytes, name: str = "t.yaml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text if isinstance(text, bytes) else text.encode())


@pytest.mark.parametrize(
    ("username", "status"),
    [("alice", 200), ("bob", 200), ("carol", 200), ("erin", 200), ("grace", 200)],
)
def test_scheme_list_by_persona(county, client_for, username, status):
    load(county)
    assert client_for(county, username).get(reverse("schemes:list")).status_code == status


def test_upload_loads_a_new_version_and_reports_errors_with_lines(county, client_for):
    load(county)
    client = client_for(county, "alice")
    response = client.post(reverse("schemes:list"), {"file": upload(scheme_text(version=2))})
    assert response.status_code == 302
    assert response["Location"] == reverse("periods:scheme", args=["test-village"])
    assert Scheme.objects.get(code="test-village").versions.count() == 2
    broken = scheme_text(version=3).replace("cap: 15", "cpa: 15")
    response = client.post(reverse("schemes:list"), {"file": upload(broken)})
    assert any("t.yaml 第 11 行" in p and "“cpa”" in p for p in response.context["problems"])
    assert Scheme.objects.get(code="test-village").versions.count() == 2


def test_a_file_that_is_not_utf8_is_refused_on_the_field(county, client_for):
    response = client_for(county, "alice").post(
        reverse("schemes:list"), {"file": upload(scheme_text().encode("gbk"))}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not Scheme.objects.exists()


def test_only_admins_upload(county, client_for):
    load(county)
    response = client_for(county, "carol").post(
        reverse("schemes:list"), {"file": upload(scheme_text(version=2))}
    )
    assert response.status_code == 403
    assert Scheme.objects.get(code="test-village").versions.count() == 1


def test_scheme_list_query_count_does_not_grow_with_schemes(county, client_for):
    client = client_for(county, "bob")
    counts = []
    for total in (2, 6):
        for n in range(Scheme.objects.count(), total):
            load(county, f"s{n}")
        with CaptureQueriesContext(connection) as queries:
            assert len(client.get(reverse("schemes:list")).context["schemes"]) == total
        counts.append(len(queries))
    assert counts[0] == counts[1]
