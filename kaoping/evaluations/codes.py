"""The codes printed for people without an account: a rater's code (/v/<code>/) and a meeting's
sign-in code (/m/<code>/). Unguessable, and without 0/O or 1/I/L, so that a code read off paper
is typed right."""

import secrets

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10


def random_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
