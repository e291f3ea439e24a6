"""Evidence uploads: what is accepted, how photos are cleaned, storage once, reuse flagged."""

import hashlib
import io
import os

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from kaoping.core.errors import KaopingError
from kaoping.ledger.evidence import evidence_prepare, thumbnail_path
from kaoping.ledger.models import Entry, EntrySource, Evidence
from kaoping.ledger.services import entry_record

from .declare_fixture import (
    household_subject,
    image_bytes,
    load_household_scheme,
    photo,
    upload,
)

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (28.0, 1.0, 0.5), 3: "E", 4: (120.0, 39.0, 0.2)}
    return exif


def test_a_jpeg_is_accepted_as_jpeg(settings):
    prepared = evidence_prepare(photo("门前.jpg"))
    assert (prepared.extension, prepared.content_type) == (".jpg", "image/jpeg")
    assert prepared.sha256 == hashlib.sha256(prepared.data).hexdigest()
    assert prepared.size == len(prepared.data)
    assert prepared.original_name == "门前.jpg"
    assert opened(prepared.data).format == "JPEG"
    assert opened(prepared.thumbnail).format == "JPEG"


def test_a_transparent_png_stays_png_and_an_opaque_one_becomes_jpeg():
    clear = evidence_prepare(
        upload(image_bytes(fmt="PNG", mode="RGBA", color=(0, 0, 0, 0)), "sign.png")
    )
    assert (clear.extension, clear.content_type) == (".png", "image/png")
    assert opened(clear.data).mode == "RGBA"
    solid = evidence_prepare(upload(image_bytes(fmt="PNG"), "screen.png"))
    assert (solid.extension, solid.content_type) == (".jpg", "image/jpeg")


def test_a_webp_photo_is_accepted():
    prepared = evidence_prepare(upload(image_bytes(fmt="WEBP"), "x.webp", "image/webp"))
    assert prepared.content_type == "image/jpeg"


def test_a_big_photo_is_scaled_to_the_long_side_limit(settings):
    prepared = evidence_prepare(upload(image_bytes((4000, 3000)), "big.jpg"))
    assert opened(prepared.data).size == (1600, 1200)
    assert max(opened(prepared.thumbnail).size) <= 320
    settings.EVIDENCE_MAX_PIXELS = 800
    assert max(opened(evidence_prepare(photo("tall.jpg", (900, 3000))).data).size) == 800


def test_gps_and_other_exif_are_stripped_and_the_photo_turned_upright():
    # Orientation 6: the camera was held upright, the sensor stored the picture on its side.
    data = image_bytes((200, 100), exif=exif_with_gps(orientation=6), comment=b"Zhang San's phone")
    assert opened(data).getexif().get_ifd(GPS_IFD)  # the test photo does carry a position
    prepared = evidence_prepare(upload(data, "gps.jpg"))
    stored = opened(prepared.data)
    assert stored.size == (100, 200)
    assert not stored.getexif()
    assert "exif" not in stored.info and "comment" not in stored.info
    assert b"Exif" not in prepared.data and b"PhoneMaker" not in prepared.data
    assert b"Zhang San" not in prepared.data


def test_the_same_photo_prepares_to_the_same_bytes():
    data = image_bytes((1000, 800))
    first = evidence_prepare(upload(data, "a.jpg"))
    second = evidence_prepare(upload(data, "b.jpg"))
    assert first.sha256 == second.sha256


def test_a_pdf_is_kept_as_it_is():
    data = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    prepared = evidence_prepare(upload(data, "证明.pdf", "application/pdf"))
    assert (prepared.data, prepared.extension, prepared.content_type) == (
        data,
        ".pdf",
        "application/pdf",
    )
    assert prepared.thumbnail is None


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)),
        ("random.jpg", os.urandom(4096)),
        ("page.html", b"<html><script>alert(1)</script></html>"),
        ("anim.gif", image_bytes(fmt="GIF", mode="RGB")),
        ("broken.jpg", image_bytes((300, 200))[:400]),
        ("empty.jpg", b""),
    ],
)
def test_anything_else_is_refused_naming_the_file(name, data):
    with pytest.raises(KaopingError) as caught:
        evidence_prepare(upload(data, name, "image/jpeg"))
    assert name in caught.value.messages[0]


def test_a_heic_photo_is_refused_with_what_to_do():
    data = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(100)
    with pytest.raises(KaopingError) as caught:
        evidence_prepare(upload(data, "IMG_0001.HEIC", "image/heic"))
    assert "IMG_0001.HEIC" in caught.value.messages[0]
    assert "HEIC" in caught.value.messages[0]


def test_an_oversize_file_is_refused_before_it_is_decoded(settings):
    settings.EVIDENCE_MAX_BYTES = 1000
    data = image_bytes((400, 300), quality=100)
    assert len(data) > 1000
    with pytest.raises(KaopingError) as caught:
        evidence_prepare(upload(data, "huge.jpg"))
    assert "huge.jpg" in caught.value.messages[0]


def test_an_oversize_file_without_a_declared_size_is_refused(settings):
    settings.EVIDENCE_MAX_BYTES = 1000
    stream = io.BytesIO(bytes(5000))
    stream.name = "stream.pdf"
    with pytest.raises(KaopingError) as caught:
        evidence_prepare(stream)
    assert "stream.pdf" in caught.value.messages[0]


def test_a_decompression_bomb_is_refused(monkeypatch):
    # Pillow only warns between MAX_IMAGE_PIXELS and twice that; we refuse at the warning.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5000)
    for size in [(80, 70), (200, 100)]:  # a warning, an error
        with pytest.raises(KaopingError) as caught:
            evidence_prepare(upload(image_bytes(size, fmt="PNG"), "bomb.png"))
        assert "bomb.png" in caught.value.messages[0]


def test_a_path_in_the_file_name_is_dropped():
    assert evidence_prepare(photo("../../etc/passwd.jpg")).original_name == "passwd.jpg"
    assert evidence_prepare(photo("C:\\Users\\x\\a.jpg")).original_name == "a.jpg"


@pytest.fixture
def declared(county):
    scheme = load_household_scheme(county)
    erin = county.users["erin"]
    subject = household_subject(erin)

    def declare(item="GY01", evidence=None, key=None):
        entry, _created = entry_record(
            scheme=scheme,
            subject=subject,
            item_code=item,
            occurred_on=timezone.localdate(),
            note="捡到钱包交还失主",
            acting_user=erin,
            source=EntrySource.DECLARED,
            idempotency_key=key,
            evidence=evidence or [],
            declared=True,
        )
        return entry

    return declare


def test_evidence_is_stored_under_its_hash(declared):
    entry = declared(evidence=[photo("a.jpg")])
    evidence = entry.evidence.get()
    assert evidence.file.name == f"evidence/{evidence.sha256[:2]}/{evidence.sha256}.jpg"
    assert default_storage.exists(evidence.file.name)
    assert default_storage.exists(thumbnail_path(evidence.sha256))
    with default_storage.open(evidence.file.name) as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == evidence.sha256
    assert not evidence.reused and "photo_reused" not in Entry.objects.get(pk=entry.pk).flags


def test_reusing_a_photo_on_another_entry_is_flagged_and_stored_once(declared):
    first = declared(evidence=[photo("a.jpg")])
    second = declared(item="GY02", evidence=[photo("again.jpg")])
    other = declared(evidence=[photo("other.jpg", color=(10, 120, 10))])
    first_ev, second_ev = first.evidence.get(), second.evidence.get()
    assert first_ev.sha256 == second_ev.sha256 and first_ev.file.name == second_ev.file.name
    assert (first_ev.reused, second_ev.reused, other.evidence.get().reused) == (False, True, False)
    flags = dict(Entry.objects.values_list("pk", "flags"))
    assert "photo_reused" in flags[second.pk]
    assert "photo_reused" not in flags[first.pk] and "photo_reused" not in flags[other.pk]
    files = default_storage.listdir(f"evidence/{first_ev.sha256[:2]}")[1]
    assert sorted(files) == sorted([f"{first_ev.sha256}.jpg", f"{first_ev.sha256}.thumb.jpg"])
    # The audit row of the recording says so too.
    from kaoping.core.models import AuditLog

    audit = AuditLog.objects.get(action="ledger.entry.recorded", object_id=str(second.pk))
    assert "photo_reused" in audit.after["flags"]


def test_a_third_use_keeps_one_flag(declared):
    declared(evidence=[photo()])
    declared(evidence=[photo()])
    third = declared(evidence=[photo(), photo("same-again.jpg")])
    assert Entry.objects.get(pk=third.pk).flags.count("photo_reused") == 1
    assert Evidence.objects.filter(entry=third).count() == 1  # attached twice, kept once


def test_a_refused_file_records_nothing(declared):
    with pytest.raises(KaopingError) as caught:
        declared(evidence=[upload(b"MZ" + bytes(100), "virus.exe")])
    assert "virus.exe" in caught.value.message_dict["evidence"][0]
    assert not Entry.objects.exists() and not Evidence.objects.exists()
