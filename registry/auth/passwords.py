"""Password hashing with Argon2id, and the rules a new password must meet.

Argon2id is memory-hard, so guessing stolen hashes on GPUs is expensive; the parameters come
from RFC 9106's second recommendation (64 MiB, 3 passes). Tests use argon2-cffi's cheapest
profile through configuration, never production code paths of their own.
"""

from __future__ import annotations

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 128

PROFILES = {
    "default": argon2.profiles.RFC_9106_LOW_MEMORY,
    "fast-for-tests": argon2.profiles.CHEAPEST,
}


class PasswordHasher:
    """Hashes and checks passwords; knows when a stored hash uses outdated parameters."""

    def __init__(self, profile: str = "default"):
        self._hasher = argon2.PasswordHasher.from_parameters(PROFILES[profile])
        self._dummy = self._hasher.hash("timing equaliser for unknown accounts")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """Check a password; with no stored hash, still spend the time a real check takes.

        An unknown username then answers as slowly as a known one with a wrong password, so
        timing does not tell which accounts exist.
        """
        try:
            return self._hasher.verify(stored_hash or self._dummy, password) and stored_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)


def password_problems(password: str, username: str = "") -> list[object]:
    """Why a new password is refused (ASVS 2.1: length over composition rules)."""
    problems: list[object] = []
    if len(password) < MIN_LENGTH:
        problems.append(_l("Use at least %(n)s characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        problems.append(_l("Use at most %(n)s characters.", n=MAX_LENGTH))
    if username and username.casefold() in password.casefold():
        problems.append(_l("The password must not contain the username."))
    if password and len(set(password)) < 4:
        problems.append(_l("The password repeats too few different characters."))
    return problems
