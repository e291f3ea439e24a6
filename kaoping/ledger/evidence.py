"""Evidence behind entries: check and clean an upload, then store it once by its content.

`evidence_prepare` runs before the entry's transaction (decoding a photo is slow and must not
hold the village's chain lock); `evidence_save` runs inside it. Photos are decoded, turned
upright, stripped of every metadata block (EXIF carries the GPS position of the villager's
home) and scaled down; PDFs are kept as they are. Nothing else is accepted.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from kaoping.core.errors import KaopingError

from .models import Entry, Evidence, evidence_path

FLAG_PHOTO_REUSED = "photo_reused"

# What Pillow decodes for us. HEIC (iPhone camera default) is absent: Pillow has no decoder for
# it. Phone browsers convert HEIC to JPEG when a page asks for `image/*`, so this only bites a
# file sent from a computer, and the message says what to do.
IMAGE_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "AVIF"})
HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
JPEG_QUALITY = 85
THUMB_PIXELS = 320
THUMB_QUALITY = 70
MAX_FILES = 6  # per entry: a few photos of the scene and a notice (通报) as PDF


@dataclass(frozen=True)
class PreparedEvidence:
    """An upload that passed the checks, as the bytes that will be stored."""

    data: bytes
    sha256: str
    extension: str
    content_type: str
    size: int
    original_name: str
    thumbnail: bytes | None = None  # a small JPEG for lists of entries; None for documents


def _display_name(upload) -> str:
    # Browsers send a bare name, but a crafted request may send a path.
    name = PurePath(str(getattr(upload, "name", "") or "").replace("\\", "/")).name
    return name[:200] or _("(unnamed file)")


def _read_limited(upload, limit: int, name: str) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise _too_big(name, limit)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _too_big(name, limit)
    return data


def _too_big(name: str, limit: int) -> KaopingError:
    return KaopingError(
        _("“%(name)s” is larger than %(limit)s MB; send a smaller photo or file.")
        % {"name": name, "limit": f"{limit / (1024 * 1024):g}"}
    )


def _is_heif(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS


def _has_transparency(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA"):
        return image.getchannel("A").getextrema()[0] < 255
    return image.mode == "P" and "transparency" in image.info


def _clean_copy(image: Image.Image, *, keep_alpha: bool) -> Image.Image:
    """The pixels alone, in a new image: no EXIF, XMP, comments or text chunks survive."""
    if keep_alpha:
        image = image.convert("RGBA")
    elif image.mode != "RGB":
        if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
            image = image.convert("I").point(lambda v: v / 256).convert("L")
        image = image.convert("RGB")
    return Image.frombytes(image.mode, image.size, image.tobytes())


def _encode(image: Image.Image, *, keep_alpha: bool, icc_profile: bytes | None) -> bytes:
    buffer = io.BytesIO()
    options = {"icc_profile": icc_profile} if icc_profile else {}
    if keep_alpha:
        image.save(buffer, "PNG", **options)
    else:
        image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, **options)
    return buffer.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    small = image.copy()
    small.thumbnail((THUMB_PIXELS, THUMB_PIXELS), Image.Resampling.LANCZOS)
    if small.mode == "RGBA":
        flat = Image.new("RGB", small.size, (255, 255, 255))
        flat.paste(small, mask=small.getchannel("A"))
        small = flat
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=THUMB_QUALITY, optimize=True)
    return buffer.getvalue()


def _prepare_image(data: bytes, name: str) -> tuple[bytes, str, str, bytes]:
    unreadable = KaopingError(
        _("“%(name)s” could not be read as a photo; take the photo again or choose another.")
        % {"name": name}
    )
    max_pixels = settings.EVIDENCE_MAX_PIXELS
    with warnings.catch_warnings():
        # Pillow only warns between 89 and 179 megapixels; such a file is an attack, not a photo.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as opened:
                if opened.format not in IMAGE_FORMATS:
                    raise _refused(name)
                # Opening reads the header only; refuse a pixel bomb before a byte is decoded
                # (Pillow's own limit, 89 megapixels, lets a 1.4 GB decode through). A JPEG is
                # decoded at a fraction of its size (draft below); other formats in full, so
                # they get half the limit.
                limit = settings.EVIDENCE_MAX_SOURCE_PIXELS
                if opened.format not in ("JPEG", "MPO"):
                    limit //= 2
                width, height = opened.size
                if width * height > limit:
                    raise _too_many_pixels(name, width, height, limit)
                if opened.format in ("JPEG", "MPO"):
                    # Decode a big JPEG at a fraction of its size (never below what we keep).
                    opened.draft("RGB", (max_pixels, max_pixels))
                icc_profile = opened.info.get("icc_profile")
                upright = ImageOps.exif_transpose(opened)
                keep_alpha = _has_transparency(upright)
                image = _clean_copy(upright, keep_alpha=keep_alpha)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise KaopingError(
                _("“%(name)s” has too many pixels to be a photo.") % {"name": name}
            ) from None
        except KaopingError:
            raise
        except Exception:
            # Decoders fed hostile or damaged bytes fail in many ways (OSError, SyntaxError,
            # struct.error, IndexError…); to the sender each one means the same thing.
            raise unreadable from None
    image.thumbnail((max_pixels, max_pixels), Image.Resampling.LANCZOS)
    # The colour profile is kept (it says how to show the colours, nothing about the person).
    stored = _encode(image, keep_alpha=keep_alpha, icc_profile=icc_profile)
    if keep_alpha:
        return stored, ".png", "image/png", _thumbnail(image)
    return stored, ".jpg", "image/jpeg", _thumbnail(image)


def _too_many_pixels(name: str, width: int, height: int, limit: int) -> KaopingError:
    return KaopingError(
        _(
            "“%(name)s” is %(width)d × %(height)d pixels, more than %(mp)s megapixels; "
            "send a smaller photo."
        )
        % {
            "name": name,
            "width": width,
            "height": height,
            "mp": f"{limit / 1e6:g}",
        }
    )


def _refused(name: str) -> KaopingError:
    return KaopingError(
        _("“%(name)s” is not a photo (JPEG, PNG, WebP) or a PDF file, so it cannot be evidence.")
        % {"name": name}
    )


def evidence_prepare(upload) -> PreparedEvidence:
    """Check and clean one uploaded file; raises KaopingError naming the file when refused.

    The type is decided by the content, never by the name or the browser's content type.
    """
    name = _display_name(upload)
    data = _read_limited(upload, settings.EVIDENCE_MAX_BYTES, name)
    if not data:
        raise KaopingError(_("“%(name)s” is empty.") % {"name": name})
    thumbnail = None
    if data.startswith(b"%PDF-"):
        stored, extension, content_type = data, ".pdf", "application/pdf"
    elif _is_heif(data):
        raise KaopingError(
            _(
                "“%(name)s” is a HEIC photo, which cannot be read here; take the photo with this "
                "page, or set the camera to save JPEG (“Most Compatible”)."
            )
            % {"name": name}
        )
    else:
        stored, extension, content_type, thumbnail = _prepare_image(data, name)
    # Reuse is detected on the stored bytes, not the upload: processing is deterministic (same
    # Pillow, same settings), so the same photo sent twice gives the same bytes, and the hash
    # also names the file in storage. A photo re-saved or cropped by the sender is not caught.
    return PreparedEvidence(
        data=stored,
        sha256=hashlib.sha256(stored).hexdigest(),
        extension=extension,
        content_type=content_type,
        size=len(stored),
        original_name=name,
        thumbnail=thumbnail,
    )


def evidence_prepare_all(uploads) -> list[PreparedEvidence]:
    """Check and clean the files of one entry (at most MAX_FILES); raises KaopingError naming the
    first file refused. Nothing is stored, so a refusal leaves no file behind."""
    uploads = list(uploads)
    if len(uploads) > MAX_FILES:
        raise KaopingError(
            _("At most %(max)d photos or files per entry; %(n)d were chosen.")
            % {"max": MAX_FILES, "n": len(uploads)}
        )
    return [evidence_prepare(upload) for upload in uploads]


def thumbnail_path(sha256: str) -> str:
    return f"evidence/{sha256[:2]}/{sha256}.thumb.jpg"


def _store_once(name: str, data: bytes) -> None:
    """Write `data` at `name` unless it is there; content addressing makes a present file equal."""
    if default_storage.exists(name):
        return
    saved = default_storage.save(name, ContentFile(data))
    if saved != name:
        # Another request stored the same content between our check and write; the storage
        # gave ours another name, which nothing will ever point at.
        default_storage.delete(saved)


def evidence_store(prepared: PreparedEvidence) -> str:
    """Store the bytes of `prepared` (and its thumbnail) by their content; returns the storage
    name. For other feeders' photos (a grid visit's) that hang off their own rows, not an entry."""
    name = evidence_path(prepared, prepared.original_name)
    _store_once(name, prepared.data)
    if prepared.thumbnail is not None:
        _store_once(thumbnail_path(prepared.sha256), prepared.thumbnail)
    return name


def evidence_save(*, entry: Entry, prepared: PreparedEvidence) -> Evidence:
    """Store `prepared` for `entry` (call inside the entry's transaction).

    If another entry already has the same file as evidence, the new row is marked `reused` and
    the entry gets the `photo_reused` flag for its reviewers.
    """
    same = Evidence.objects.filter(entry=entry, sha256=prepared.sha256).first()
    if same is not None:
        return same  # the same photo attached twice to one entry is one piece of evidence
    # A file written here stays if the transaction rolls back; it is unreachable without a row,
    # and the same content uploaded again will use it.
    evidence = Evidence(
        entry=entry,
        sha256=prepared.sha256,
        extension=prepared.extension,
        content_type=prepared.content_type,
        size=prepared.size,
        original_name=prepared.original_name,
    )
    evidence.file.name = evidence_store(prepared)
    if connection.vendor == "postgresql":
        # Two entries with the same photo, in different villages (so not queued by the chain
        # lock), would each miss the other's uncommitted row; queue them on the hash instead.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(prepared.sha256[:15], 16)])
    evidence.reused = (
        Evidence.objects.filter(sha256=prepared.sha256).exclude(entry_id=entry.pk).exists()
    )
    evidence.save()
    if evidence.reused:
        _flag_entry(entry, FLAG_PHOTO_REUSED)
    return evidence


def _flag_entry(entry: Entry, flag: str) -> None:
    # flags is a JSON list and SQLite has no JSON containment lookup, so the row is locked and
    # the list extended in Python; the lock keeps a concurrent flagger from losing our flag.
    current = (
        Entry.objects.select_for_update().filter(pk=entry.pk).values_list("flags", flat=True).get()
    )
    flags = list(current or [])
    if flag not in flags:
        flags.append(flag)
        Entry.objects.filter(pk=entry.pk).update(flags=flags)
    entry.flags = flags
