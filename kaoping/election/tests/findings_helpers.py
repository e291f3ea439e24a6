"""What the findings tests share: many persons with sheets, workbooks built with openpyxl, a
login of 区信访局 (D02)."""

import io
from datetime import date

from django.contrib.auth import get_user_model
from openpyxl import Workbook

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.scoping import system_actor
from kaoping.election.models import PersonSheet
from kaoping.people.models import Person
from kaoping.testing import make_id_number

HEADER = ["身份证号", "姓名", "条件", "是否存在", "情况说明", "查核日期", "文号"]
FOUND_ON = date(2026, 9, 15)


def persons_with_sheets(county, ew, n: int) -> list[Person]:
    """`n` residents of 东岭村, each with a sheet in the round (as prospective candidates)."""
    village = county.region("330304001001")
    persons = Person.objects.bulk_create(
        Person(
            region=village,
            name=f"候选{i:03d}",
            id_number=make_id_number(i, f"197003{3 + i // 1000:02d}"),
        )
        for i in range(n)
    )
    system = system_actor()
    PersonSheet.objects.bulk_create(
        PersonSheet(round=ew.round, person=p, village=village, is_candidate=True, added_by=system)
        for p in persons
    )
    return persons


def finding_row(person, **changes) -> list:
    values = {
        "id_number": person.id_number,
        "name": person.name,
        "condition": "criminal",
        "hit": "否",
        "summary": "经查无刑事处罚记录",
        "found_on": FOUND_ON.isoformat(),
        "document": "瓯政法〔2026〕20号",
    }
    values.update(changes)
    return list(values.values())


def workbook(rows: list[list], header=HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def petitions_login(ew):
    """henry, a scorer of 区信访局 (D02), the department that answers petition_agitation."""
    user = get_user_model().objects.create_user(username="henry", password="pw")
    RoleAssignment.objects.create(
        user=user, role=Role.DEPARTMENT_SCORER, department=ew.petitions_department
    )
    return user
