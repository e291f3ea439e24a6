from django.core.exceptions import ValidationError


class KaopingError(ValidationError):
    """A domain rule was broken; the message is shown to the user as is."""


class RowError:
    """One problem in one row/field of an uploaded file (rows counted as the user sees them)."""

    __slots__ = ("row", "field", "message")

    def __init__(self, row: int, field: str, message: str):
        self.row, self.field, self.message = row, field, message

    def __str__(self) -> str:
        return f"{self.row}: {self.field}: {self.message}"

    def __repr__(self) -> str:
        return f"RowError({self.row!r}, {self.field!r}, {self.message!r})"


class ImportFailed(Exception):
    """An import was refused as a whole; `errors` names every bad row and field."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors[:20]))
