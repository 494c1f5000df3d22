"""New cards in the browser: typed into the payment processor's card fields (the sandbox's
script mounts them in the page, without a name), never into our forms. And the guard every
browser test runs under: no request to our origin outside /sandbox-gateway/ carries a card
number."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

from django.utils import timezone
from playwright.sync_api import Page
from stdnum import luhn

# 13 to 19 digits, maybe grouped by spaces, "+" or hyphens, not inside a longer word.
CARD_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d[ +-]?){12,18}\d(?![0-9A-Za-z])")


def expiry() -> str:
    """An expiry a few years after the real clock (browser tests run on it)."""
    return f"12/{(timezone.localdate().year + 4) % 100:02d}"


def type_card(page: Page, number: str, holder: str | None = None) -> None:
    """Type a card into the processor's fields of the open form (and the name on it into ours)."""
    page.locator("#sandbox-card-number").fill(number)
    page.locator("#sandbox-card-expiry").fill(expiry())
    page.locator("#sandbox-card-cvc").fill("123")
    if holder is not None:
        page.locator("#id_cardholder_name").fill(holder)


def card_numbers_in(text: str) -> list[str]:
    found = []
    for match in CARD_NUMBER.finditer(unquote_plus(text)):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
            found.append(digits)
    return found


class RequestRecorder:
    """Every request the browser sends to our origin, and where a card number was in one."""

    def __init__(self, origin: str):
        self.origin = origin
        self.requests: list[str] = []
        self.offending: list[str] = []
        self.to_processor = 0

    def __call__(self, request) -> None:
        if not request.url.startswith(self.origin):
            return
        path = request.url[len(self.origin) :]
        self.requests.append(f"{request.method} {path}")
        if path.startswith("/sandbox-gateway/"):
            self.to_processor += 1
            return
        body = request.post_data or ""
        numbers = card_numbers_in(path) + card_numbers_in(body)
        if numbers:
            self.offending.append(f"{request.method} {path}: {numbers}")
