"""Made-up residents: household make-up, names, birth dates, ID numbers and phones.

Pure Python with an explicit random.Random, so the same seed gives the same people. Nothing here
touches the database; the generator turns these values into rows.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta

from kaoping.core.pinyin import initials
from kaoping.core.privacy import id_check_char

from .names import GIVEN_CHARS, PHONE_PREFIXES, SURNAME_WEIGHTS, generation

# Every age and date in the demo is counted from here, never from today, so a build is
# reproducible.
REFERENCE_DATE = date(2026, 1, 1)

HEAD, SPOUSE, SON, DAUGHTER, FATHER, MOTHER = "户主", "配偶", "子", "女", "父亲", "母亲"
MALE, FEMALE = "M", "F"

# Shares of households with 1…6 members (rural Zhejiang: about 3 persons per household).
HOUSEHOLD_SIZE_WEIGHTS = (12, 25, 25, 20, 12, 6)


@dataclass(frozen=True, slots=True)
class Resident:
    name: str
    initials: str
    gender: str
    birth_date: date
    relation: str
    id_number: str
    phone: str


def age_on(birth: date, when: date = REFERENCE_DATE) -> int:
    return when.year - birth.year - ((when.month, when.day) < (birth.month, birth.day))


def years_after(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February in a year without one
        return start.replace(year=start.year + years, day=28)


class InitialsTable:
    """Pinyin initials per surname and per given-name character, computed once.

    pypinyin per name costs too much at millions of names; the pools in names.py hold no
    character whose initial depends on its neighbour, so joining the parts gives the same result.
    """

    def __init__(self) -> None:
        characters = set("".join(GIVEN_CHARS.values()))
        self.surnames = {surname: initials(surname) for surname, _weight in SURNAME_WEIGHTS}
        self.characters = {character: initials(character) for character in characters}

    def of(self, surname: str, given: str) -> str:
        return self.surnames[surname] + "".join(self.characters[c] for c in given)


class IdNumbers:
    """Issues 18-character resident ID numbers, unique within one area code (GB 11643).

    Digits 15–17 are a sequence number whose last digit is odd for men and even for women, so
    each birth date holds at most 499 men and 499 women; a full date moves the birth a day back.
    """

    PER_DATE = 499  # a prime, so the stride below visits every slot once

    def __init__(self, area_code: str) -> None:
        self.area_code = area_code
        self.used: dict[int, int] = {}

    def issue(self, birth: date, gender: str) -> tuple[str, date]:
        male = gender == MALE
        while True:
            key = birth.toordinal() * 2 + male
            count = self.used.get(key, 0)
            if count < self.PER_DATE:
                break
            birth -= timedelta(days=1)
        self.used[key] = count + 1
        # Spread the sequence numbers over 001–998 instead of counting up from 001.
        slot = (count * 173 + birth.toordinal() * 37) % self.PER_DATE
        sequence = slot * 2 + (1 if male else 2)
        first17 = f"{self.area_code}{birth:%Y%m%d}{sequence:03d}"
        return first17 + id_check_char(first17), birth


class ResidentFactory:
    """Draws households of residents; one instance per build, fed one Random per village."""

    def __init__(self, area_code: str) -> None:
        self.initials = InitialsTable()
        self.ids = IdNumbers(area_code)
        self.surnames = [surname for surname, _weight in SURNAME_WEIGHTS]
        self.surname_weights = list(_cumulative(weight for _surname, weight in SURNAME_WEIGHTS))

    def clan_surname(self, rng: random.Random) -> str:
        """The surname most of a village shares (单姓村 are common around Wenzhou)."""
        return rng.choices(self.surnames[:12], k=1)[0]

    def surname(self, rng: random.Random) -> str:
        return rng.choices(self.surnames, cum_weights=self.surname_weights, k=1)[0]

    def household(self, rng: random.Random, clan: str) -> list[Resident]:
        """1–6 residents, head first: head, spouse, the head's parents, children."""
        size = rng.choices(range(1, 7), weights=HOUSEHOLD_SIZE_WEIGHTS, k=1)[0]
        if size == 1:
            # People living alone are mostly the elderly, some young singles.
            head_age = rng.randint(62, 92) if rng.random() < 0.7 else rng.randint(24, 40)
        else:
            head_age = int(rng.triangular(26, 86, 48))
        head_gender = MALE if rng.random() < 0.82 else FEMALE
        head_surname = clan if rng.random() < 0.35 else self.surname(rng)
        plan: list[tuple[str, str, int, str]] = [(HEAD, head_gender, head_age, head_surname)]
        children_surname = head_surname

        if size > 1 and rng.random() < 0.9:
            gap = rng.randint(-2, 5)  # husbands are usually a few years older
            spouse_gender = FEMALE if head_gender == MALE else MALE
            spouse_age = head_age - gap if head_gender == MALE else head_age + gap
            spouse_surname = self.surname(rng)
            plan.append((SPOUSE, spouse_gender, max(20, min(95, spouse_age)), spouse_surname))
            if head_gender == FEMALE:
                children_surname = spouse_surname

        if len(plan) < size and head_age <= 60 and rng.random() < 0.4:
            father_age = head_age + rng.randint(24, 34)
            mother_age = father_age - rng.randint(0, 4)
            if rng.random() < 0.5 and len(plan) + 1 < size:
                plan.append((FATHER, MALE, father_age, head_surname))
                plan.append((MOTHER, FEMALE, mother_age, self.surname(rng)))
            elif rng.random() < 0.6:  # widowed mothers outnumber widowed fathers
                plan.append((MOTHER, FEMALE, mother_age, self.surname(rng)))
            else:
                plan.append((FATHER, MALE, father_age, head_surname))

        child_age = head_age - rng.randint(23, 32)
        while len(plan) < size and child_age >= 0:
            gender = MALE if rng.random() < 0.52 else FEMALE
            plan.append((SON if gender == MALE else DAUGHTER, gender, child_age, children_surname))
            child_age -= rng.randint(1, 5)

        return [self._resident(rng, *entry) for entry in plan]

    def _resident(
        self, rng: random.Random, relation: str, gender: str, age: int, surname: str
    ) -> Resident:
        birth_year = REFERENCE_DATE.year - age - 1
        birth = date(birth_year, 1, 1) + timedelta(days=rng.randrange(365))
        id_number, birth = self.ids.issue(birth, gender)
        given = self._given_name(rng, gender, birth.year)
        phone = ""
        if age >= 18 and rng.random() < (0.93 if age < 70 else 0.55):
            phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"
        return Resident(
            name=surname + given,
            initials=self.initials.of(surname, given),
            gender=gender,
            birth_date=birth,
            relation=relation,
            id_number=id_number,
            phone=phone,
        )

    def _given_name(self, rng: random.Random, gender: str, birth_year: int) -> str:
        era = generation(birth_year)
        pool = GIVEN_CHARS[(era, gender)]
        two_characters = {"old": 0.6, "mid": 0.65, "young": 0.85}[era]
        if rng.random() < two_characters:
            return "".join(rng.sample(pool, 2))  # no 峰峰: doubled characters read as nicknames
        return rng.choice(pool)


def _cumulative(weights) -> list[float]:
    total, result = 0.0, []
    for weight in weights:
        total += weight
        result.append(total)
    return result
