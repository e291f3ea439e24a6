"""Permission cases of `inspections.services` (gathered by accounts' test_service_permissions).

The world holds the `sampling-example` scheme and a draw of 东岭村 (helpers.sampling_world): bob,
东岭街道's township staff, inspects it from above; oscar, 西溪村's secretary, is out of scope."""

from kaoping.accounts.tests.permission_case import Case
from kaoping.inspections import services
from kaoping.inspections.models import Draw
from kaoping.people.models import Subject
from kaoping.schemes.models import Scheme


def _draw():
    return Draw.objects.get(subject__region__code="330304001001", item_code="RJ")


CASES = {
    "kaoping.inspections.services.draw_make": Case(
        "bob",
        "oscar",
        lambda w, a: services.draw_make(
            scheme=Scheme.objects.get(code="sampling-example"),
            period_label="2026-04",
            subject=Subject.objects.get(kind="village", region__code="330304001001"),
            item_code="RJ",
            acting_user=a,
        ),
    ),
    "kaoping.inspections.services.results_record": Case(
        "bob",
        "oscar",
        lambda w, a: services.results_record(
            draw=_draw(), results={_draw().members[0]: ("合格", "")}, acting_user=a
        ),
    ),
}
