"""Password rules and hashing: Argon2id, at least 12 characters, nothing common or guessable."""

import itertools
import re
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
# A password needs this many different characters: "aaaaaaaaaaaa" or "abababababab" are not.
MIN_DISTINCT_CHARACTERS = 5
# What is left of a password once the parts of its owner's email are taken out.
MIN_LETTERS_BEYOND_EMAIL = 6
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
_EDGE_PADDING = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_SEPARATORS = re.compile(r"[\s\-_.]+")

password_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown email as slow as for a known one.
_DUMMY_HASH = password_hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """A strong, salted Argon2id hash of `password`."""
    return password_hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches the hash (None verifies a dummy hash, as slowly)."""
    try:
        password_hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerifyMismatchError, InvalidHashError):
        return False
    return password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return password_hasher.check_needs_rehash(password_hash)


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords (zxcvbn's 10,000 most common), lowercase."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def password_problem(password: str, *, email: str) -> str | None:
    """What is wrong with `password` for the owner of `email`, as a sentence; None if nothing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must have at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"The password must have at most {MAX_PASSWORD_LENGTH} characters."
    if _is_common(password):
        return "This password is too common: choose one that others are unlikely to use."
    if len(set(password.lower())) < MIN_DISTINCT_CHARACTERS or _is_sequence(password):
        return "This password is too simple: avoid repeated characters and sequences."
    if _is_derived_from_email(password, email):
        return "The password must not be made from the email address."
    return None


def _is_common(password: str) -> bool:
    """A common password, also with digits or symbols around it or separators inside."""
    lowered = password.lower()
    candidates = {lowered, _EDGE_PADDING.sub("", lowered), _SEPARATORS.sub("", lowered)}
    return not candidates.isdisjoint(common_passwords())


def _is_sequence(password: str) -> bool:
    """Characters that step by the same amount: "123456789012", "abcdefghijkl", "zyxwvu..."."""
    steps = {(ord(b) - ord(a)) % 10 for a, b in itertools.pairwise(password)}
    return len(steps) == 1 and steps <= {1, 9}


def _is_derived_from_email(password: str, email: str) -> bool:
    """The email's parts with little more: "admin@example.com", "Example2024!", "admin.admin"."""
    parts = [part for part in re.split(r"[^a-z0-9]+", email.lower()) if len(part) >= 3]
    remainder = password.lower()
    found = False
    for part in sorted(parts, key=len, reverse=True):
        if part in remainder:
            found = True
            remainder = remainder.replace(part, "")
    letters = re.sub(r"[^a-z]", "", remainder)
    return found and len(letters) < MIN_LETTERS_BEYOND_EMAIL
