"""A small household scheme with declarable items, and photos made with Pillow for uploads."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kaoping.accounts.models import Role, RoleAssignment
from kaoping.accounts.scoping import system_actor
from kaoping.people.models import Subject
from kaoping.schemes.services import scheme_load

HOUSEHOLD_SCHEME = """
code: test-household
version: 1
name: 测试户积分
subject_kind: household
cadence: month
decimals: 0
base: 100
floor: 0
tree:
  - code: ZM
    name: 正面清单
    section: bonus
    children:
      - code: GY
        name: 公益美德
        children:
          - {code: GY01, name: 拾金不昧, rule: count, points: 2, declarable: true}
          - {code: GY02, name: 见义勇为, rule: count, points: 10, declarable: true, evidence_required: true}
          - {code: GY05, name: 捐款捐物, rule: quantity, unit: 百元, points: 1, cap: 10, declarable: true}
      - code: JS
        name: 乡村建设
        children:
          - {code: JS01, name: 庭院整洁被评为美丽庭院, rule: count, points: 3}
"""


def load_household_scheme(county):
    version, _created = scheme_load(
        text=HOUSEHOLD_SCHEME,
        filename="test-household.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    return version.scheme


def household_subject(user) -> Subject:
    """The household subject of a villager persona (erin)."""
    household = RoleAssignment.objects.get(user=user, role=Role.VILLAGER).household
    return Subject.objects.get(kind="household", household=household)


def image_bytes(
    size=(64, 48), *, fmt="JPEG", color=(200, 30, 30), mode="RGB", exif=None, **options
) -> bytes:
    image = Image.new(mode, size, color)
    # A gradient, so that scaling and re-encoding have real work to do.
    for x in range(0, size[0], max(1, size[0] // 16)):
        for y in range(0, size[1], max(1, size[1] // 16)):
            pixel = (x * 255 // size[0], y * 255 // size[1], 90)
            image.putpixel((x, y), pixel + ((128,) if mode == "RGBA" else ()))
    buffer = io.BytesIO()
    if exif is not None:
        options["exif"] = exif
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def photo(name: str = "photo.jpg", size=(64, 48), color=(200, 30, 30)):
    return upload(image_bytes(size, color=color), name)
