"""The household points card: a printable PDF whose QR code opens the keeper's page for it.

The QR code carries only a URL with the card number (no secret): whoever scans it still has to
be a signed-in store keeper in scope to see or spend anything.
"""

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from kaoping.core.qr import qr_svg

from .models import Account


def card_url(request, account: Account) -> str:
    return request.build_absolute_uri(reverse("store:keeper_card", args=[account.card_number]))


def cards_pdf(request, cards: list[dict]) -> bytes:
    """A4 sheets of credit-card-sized cards (2 × 5 a page), ready to cut out.

    Each item of `cards`: account, honours (list of (name, period)), village.
    """
    from weasyprint import HTML

    for card in cards:
        card["qr"] = qr_svg(card_url(request, card["account"]))
    html = render_to_string(
        "store/cards_pdf.html",
        {"cards": cards, "printed_on": timezone.localdate()},
        request=request,
    )
    return HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
