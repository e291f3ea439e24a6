from django.db import models


class RegionCodeField(models.CharField):
    """A region code: digits whose prefix is the ancestor's code.

    "Everything under X" is then a range scan `code >= X AND code < X || ':'` on a plain btree
    index (':' sorts right after '9'). PostgreSQL needs the "C" collation for that ordering to be
    bytewise; SQLite's default BINARY collation already is.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(*args, **kwargs)

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params


def subtree_q(lookup: str, prefix: str) -> models.Q:
    """Q for rows whose region code (at `lookup`) lies in the subtree rooted at `prefix`."""
    return models.Q(**{f"{lookup}__gte": prefix, f"{lookup}__lt": prefix + ":"})


# The lengths of the significant codes above a grid: province, city, county, township, village.
ANCESTOR_WIDTHS = (2, 4, 6, 9, 12)


def ancestor_codes(code: str) -> list[str]:
    """The codes of the regions above `code`, top first (the prefixes of the level widths)."""
    return [code[:n] for n in ANCESTOR_WIDTHS if n < len(code)]
