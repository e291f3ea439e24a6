"""The county's list of households and members as a spreadsheet: its columns, its template, and
the reading of it into checked households (nothing here writes; `services.households_import`
does, all or nothing)."""

import io
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from kaoping.accounts.scoping import restrict
from kaoping.core.errors import ImportFailed, RowError
from kaoping.core.privacy import id_number_problem
from kaoping.core.tabular import rows_with_header, xlsx_row
from kaoping.regions.models import NaturalVillage, Region

from .book import GENDER_WORDS, gender_of, value_problem
from .models import Household, HouseholdTag, Person

IMPORT_MAX_ROWS = 20_000

# The template's headers: the file format is Chinese, like the division list's 代码 and 名称.
HEADERS = {
    "number": "户号",
    "grid": "网格代码",
    "head": "户主",
    "name": "姓名",
    "gender": "性别",
    "id_number": "身份证号",
    "relation": "与户主关系",
    "phone": "电话",
    "address": "地址",
    "tags": "标签",
    "natural_village": "自然村/村民小组",
}
COLUMNS = {
    "number": {"户号", "household number", "number"},
    "grid": {"网格代码", "网格", "网格编码", "所在网格", "grid"},
    "head": {"户主", "是否户主", "head"},
    "name": {"姓名", "name"},
    "gender": {"性别", "gender"},
    "id_number": {"身份证号", "身份证号码", "公民身份号码", "id number"},
    "relation": {"与户主关系", "关系", "relation"},
    "phone": {"电话", "手机号", "联系电话", "phone"},
    "address": {"地址", "住址", "address"},
    "tags": {"标签", "户标签", "tags"},
    "natural_village": {"自然村/村民小组", "自然村", "村民小组", "小组", "natural village"},
}
# Columns a file may leave out (files made before they were added still import).
OPTIONAL = frozenset({"natural_village"})
YES = {"是", "y", "yes", "1", "√", "户主"}
NO = {"否", "n", "no", "0", ""}
TAG_SEPARATORS = ("，", "、", ";", "；")


@dataclass
class MemberRow:
    row: int
    name: str
    gender: str
    id_number: str
    relation: str
    phone: str
    is_head: bool


@dataclass
class HouseholdRows:
    number: str
    first_row: int
    region: Region | None = None
    address: str = ""
    members: list[MemberRow] = field(default_factory=list)
    tags: dict[int, HouseholdTag] = field(default_factory=dict)
    natural_village: NaturalVillage | None = None


def households_template() -> bytes:
    """Sheet 户籍 with the headers and one example household; sheet 填写说明 says how."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("household list")
    keys = list(HEADERS)
    sheet.append(xlsx_row(sheet, [HEADERS[k] for k in keys]))
    example = [
        ["3303040010010101", "330304001001001", "是", "张三", "男", "330304198001010011",
         "户主", "13800000000", "东岭村1组5号", "低保,独居老人", ""],
        ["3303040010010101", "330304001001001", "否", "李四", "女", "330304198505050025",
         "配偶", "", "", "", ""],
    ]  # fmt: skip
    for values in example:
        sheet.append(xlsx_row(sheet, values))
    widths = {
        "number": 20, "grid": 18, "id_number": 22, "address": 20, "tags": 18, "natural_village": 16
    }  # fmt: skip
    for index, key in enumerate(keys, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="FDE8E7")
        sheet.column_dimensions[cell.column_letter].width = widths.get(key, 10)
        if key in ("number", "grid", "id_number", "phone"):
            # Text, so Excel keeps every digit (and the X) of a code, an ID and a number.
            for row in range(2, 1002):
                sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet(_("how to fill"))
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 70
    lines = [
        (_("column"), _("what to write")),
        (HEADERS["number"], _("The household number; the rows of one household share it.")),
        (HEADERS["grid"], _("The 15-digit code of the grid (the village's code if it has none).")),
        (HEADERS["head"], _("是 on the head's row, 否 or empty on the others: one head each.")),
        (HEADERS["name"], _("The member's full name.")),
        (HEADERS["gender"], _("男 or 女; may be left empty when the ID number is given.")),
        (HEADERS["id_number"], _("The 18-character resident ID number; it is checked.")),
        (HEADERS["relation"], _("Relation to the head: 户主, 配偶, 子, 女, 父, 母…")),
        (HEADERS["phone"], _("An 11-digit mobile number, or empty.")),
        (HEADERS["address"], _("The household's address, on any one of its rows.")),
        (HEADERS["tags"], _("The county's household tags, separated by commas (低保,脱贫户).")),
        (
            HEADERS["natural_village"],
            _(
                "Optional: the name or code of the household's 自然村 or 村民小组, one of those "
                "listed on the village's page (add it there first)."
            ),
        ),
        ("", ""),
        (
            _("Note"),
            _(
                "The whole file is imported or nothing is. Only new households are imported: "
                "an existing household is changed in its book, where every change is recorded."
            ),
        ),
    ]
    for line in lines:
        notes.append(xlsx_row(notes, list(line)))
    for cell in notes[1]:
        cell.font = Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def households_read(*, data: bytes, filename: str, acting_user) -> list[HouseholdRows]:
    """The households of the file, checked; ImportFailed names every bad row and column."""
    reading = _Reading()
    count = 0
    for number, row in rows_with_header(data, filename, COLUMNS, optional=OPTIONAL):
        count += 1
        if count > IMPORT_MAX_ROWS:
            reading.errors.append(
                RowError(
                    number,
                    "",
                    _("At most %(n)d rows per file; split the file.") % {"n": IMPORT_MAX_ROWS},
                )
            )
            break
        reading.row_read(number, row)
    errors = reading.errors
    if count == 0 and not errors:
        errors.append(RowError(2, "", _("The file has no rows below its header.")))
    households = reading.households
    errors += _heads_check(households)
    errors += _regions_resolve(households, reading.grid_of, acting_user)
    errors += _existing(households, reading.ids)
    errors += _tags_resolve(households, reading.tag_words)
    errors += _natural_villages_resolve(households, reading.natural_village_of)
    if errors:
        raise ImportFailed(sorted(errors, key=lambda e: e.row))
    return list(households.values())


@dataclass
class _Reading:
    """What reading the rows gathers: the households by number with their members, each
    household's grid code and tag words (row, word), the ID numbers (→ the row naming them first)
    and the problems of each row."""

    households: dict[str, HouseholdRows] = field(default_factory=dict)
    grid_of: dict[str, str] = field(default_factory=dict)
    tag_words: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    # household number → (the first row naming its natural village, the name or code written)
    natural_village_of: dict[str, tuple[int, str]] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    def error(self, row: int, column: str, message: str) -> None:
        self.errors.append(RowError(row, HEADERS[column], message))

    def row_read(self, number: int, row: dict) -> None:
        """Check row `number` and add its member to its household (a row without a usable
        household number adds nothing)."""
        household = self._household_of(number, row)
        if household is None:
            return
        head_word = row["head"].lower()
        if head_word not in YES | NO:
            self.error(number, "head", _("Write 是 or 否."))
        id_number = self._id_number_of(number, row)
        gender = GENDER_WORDS.get(row["gender"], "")
        if not row["gender"] and id_number and self.ids.get(id_number) == number:
            gender = gender_of(id_number)
        if not gender:
            self.error(number, "gender", _("Write 男 or 女."))
        for column in ("name", "phone", "relation", "address"):
            problem = value_problem(column, row[column])
            if problem:
                self.error(number, column, problem)
        if row["address"]:
            household.address = household.address or row["address"]
        self._natural_village_read(number, row, household)
        for word in _split_tags(row["tags"]):
            self.tag_words.setdefault(household.number, []).append((number, word))
        is_head = head_word in YES
        household.members.append(
            MemberRow(
                row=number,
                name=row["name"],
                gender=gender,
                id_number=id_number,
                relation=row["relation"] or ("户主" if is_head else ""),
                phone=row["phone"],
                is_head=is_head,
            )
        )

    def _household_of(self, number: int, row: dict) -> HouseholdRows | None:
        """The household row `number` belongs to (its grid the same on every row), or None when
        its household number is empty or too long."""
        key = row["number"]
        if not key:
            self.error(number, "number", _("The household number is empty."))
            return None
        if len(key) > 30:
            self.error(number, "number", _("At most %(n)d characters.") % {"n": 30})
            return None
        household = self.households.setdefault(key, HouseholdRows(number=key, first_row=number))
        grid = row["grid"]
        if key in self.grid_of and self.grid_of[key] != grid:
            self.error(
                number,
                "grid",
                _("Row %(r)d puts this household in %(g)s.")
                % {"r": household.first_row, "g": self.grid_of[key]},
            )
        self.grid_of.setdefault(key, grid)
        return household

    def _natural_village_read(self, number: int, row: dict, household: HouseholdRows) -> None:
        """The household's natural village, written on any of its rows, the same on each."""
        word = row["natural_village"].strip()
        if not word:
            return
        first = self.natural_village_of.setdefault(household.number, (number, word))
        if first[1] != word:
            self.error(
                number,
                "natural_village",
                _("Row %(r)d puts this household in %(g)s.") % {"r": first[0], "g": first[1]},
            )

    def _id_number_of(self, number: int, row: dict) -> str:
        """The row's ID number, upper-cased; kept in `ids` when valid and the first in the file."""
        id_number = row["id_number"].upper()
        if id_number:
            problem = id_number_problem(id_number)
            if problem:
                self.error(number, "id_number", problem)
            elif id_number in self.ids:
                self.error(
                    number,
                    "id_number",
                    _("The same ID number is in row %(r)d.") % {"r": self.ids[id_number]},
                )
            else:
                self.ids[id_number] = number
        return id_number


def _heads_check(households: dict[str, HouseholdRows]) -> list[RowError]:
    """Every household has exactly one head."""
    errors = []
    for household in households.values():
        heads = [m for m in household.members if m.is_head]
        if not heads:
            errors.append(
                RowError(
                    household.first_row,
                    HEADERS["head"],
                    _("The household has no head: mark one row 是."),
                )
            )
        for extra in heads[1:]:
            errors.append(
                RowError(
                    extra.row,
                    HEADERS["head"],
                    _("The household already has a head in row %(r)d.") % {"r": heads[0].row},
                )
            )
    return errors


def _split_tags(text: str) -> list[str]:
    for separator in TAG_SEPARATORS:
        text = text.replace(separator, ",")
    return [word.strip() for word in text.split(",") if word.strip()]


def _regions_resolve(households, grid_of, acting_user) -> list[RowError]:
    codes = {code for code in grid_of.values() if code}
    regions = {
        r.code: r for r in Region.objects.filter(code__in=codes, level__in=["grid", "village"])
    }
    allowed = set(
        restrict(Region.objects.filter(code__in=regions), acting_user, "people.import").values_list(
            "code", flat=True
        )
    )
    with_grids = set(
        Region.objects.filter(parent__code__in=regions, level="grid").values_list(
            "parent__code", flat=True
        )
    )
    errors = []
    for household in households.values():
        code, row = grid_of.get(household.number, ""), household.first_row
        region = regions.get(code)
        if not code:
            errors.append(RowError(row, HEADERS["grid"], _("The grid code is empty.")))
        elif region is None:
            errors.append(
                RowError(
                    row, HEADERS["grid"], _("There is no grid or village %(c)s.") % {"c": code}
                )
            )
        elif code not in allowed:
            errors.append(
                RowError(
                    row,
                    HEADERS["grid"],
                    _("%(c)s lies outside your area; you may not import there.") % {"c": code},
                )
            )
        elif code in with_grids:
            errors.append(
                RowError(
                    row,
                    HEADERS["grid"],
                    _("%(name)s has grids: write the code of the household's grid.")
                    % {"name": region.name},
                )
            )
        else:
            household.region = region
    return errors


def _existing(households, ids) -> list[RowError]:
    errors = []
    for number in Household.objects.filter(number__in=households).values_list("number", flat=True):
        errors.append(
            RowError(
                households[number].first_row,
                HEADERS["number"],
                _(
                    "Household %(n)s exists already: change it in its book, where every change "
                    "is kept; the import adds new households only."
                )
                % {"n": number},
            )
        )
    for id_number in Person.objects.filter(id_number__in=ids).values_list("id_number", flat=True):
        errors.append(
            RowError(
                ids[id_number],
                HEADERS["id_number"],
                _("This ID number is already registered for another person."),
            )
        )
    return errors


def _tags_resolve(households, tag_words) -> list[RowError]:
    counties = {h.region.code[:6] for h in households.values() if h.region is not None}
    known: dict[tuple[str, str], HouseholdTag] = {}
    for tag in HouseholdTag.objects.filter(region__code__in=counties, active=True).select_related(
        "region"
    ):
        known[(tag.region.code, tag.name)] = tag
        known[(tag.region.code, tag.code.lower())] = tag
    errors = []
    for key, words in tag_words.items():
        household = households[key]
        if household.region is None:
            continue
        for row, word in words:
            tag = known.get((household.region.code[:6], word)) or known.get(
                (household.region.code[:6], word.lower())
            )
            if tag is None:
                errors.append(
                    RowError(
                        row,
                        HEADERS["tags"],
                        _("Unknown household tag “%(t)s”: the county's tags are on its tag page.")
                        % {"t": word},
                    )
                )
            else:
                household.tags[tag.pk] = tag
    return errors


def _natural_villages_resolve(households, natural_village_of) -> list[RowError]:
    """Each household's natural village, by name or code among its village's: an unknown one is
    refused (a typo would otherwise make a new group, scored and ranked on its own)."""
    villages = {
        h.region.code[:12]
        for key, h in households.items()
        if key in natural_village_of and h.region
    }
    known: dict[tuple[str, str], NaturalVillage] = {}
    for natural in NaturalVillage.objects.filter(village__code__in=villages).select_related(
        "village"
    ):
        known[(natural.village.code, natural.code)] = natural
        known[(natural.village.code, natural.name)] = natural
    errors = []
    for key, (row, word) in natural_village_of.items():
        household = households[key]
        if household.region is None:
            continue
        village = household.region.code[:12]
        natural = known.get((village, word))
        if natural is None:
            errors.append(
                RowError(
                    row,
                    HEADERS["natural_village"],
                    _(
                        "The village has no 自然村 or 村民小组 “%(n)s”: add it on the village's "
                        "page first, or check the name."
                    )
                    % {"n": word},
                )
            )
        else:
            household.natural_village = natural
    return errors
