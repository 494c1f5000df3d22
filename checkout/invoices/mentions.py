"""The legal mentions an invoice carries because of its seller's country (SPEC "Documents"):
kept as data, one row per country, so that another seller country is a row here, not code in
the templates. Every invoice states the nature of the operation and its payment terms; a French
seller adds the late-payment penalty and the fixed recovery indemnity of the Code de commerce
(articles L441-10 and D441-5), and prints the buyer's SIREN when it has one.

The words are translated when the document is rendered, in the document's language.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from moneyed import Money

from billing_center.money import format_money


@dataclass(frozen=True)
class SellerMentions:
    # What is sold: subscriptions are services.
    operation_nature: str = _("Supply of services")
    # Late payment: the penalty (a multiple of the legal interest rate) and the fixed
    # indemnity for recovery costs, with the articles that set them.
    late_payment_rate: str = ""
    recovery_indemnity: Decimal | None = None
    late_payment_articles: str = ""


SELLER_MENTIONS: dict[str, SellerMentions] = {
    "FR": SellerMentions(
        operation_nature=_("Supply of services"),
        late_payment_rate=_("three times the French legal interest rate"),
        recovery_indemnity=Decimal("40.00"),
        late_payment_articles="articles L441-10 et D441-5 du Code de commerce",
    ),
}
DEFAULT = SellerMentions()


def mentions_for(seller_country: str) -> SellerMentions:
    return SELLER_MENTIONS.get(str(seller_country), DEFAULT)


def mention_lines(invoice) -> list[str]:
    """The mentions of an issued document, in the active language (the caller sets the
    document's): the nature of the operation, then the late-payment terms where they apply."""
    mentions = mentions_for(invoice.seller_country)
    lines = [
        gettext("Nature of the operation: %(nature)s.") % {"nature": mentions.operation_nature}
    ]
    if mentions.late_payment_rate and not invoice.is_credit_note:
        indemnity = format_money(Money(mentions.recovery_indemnity, "EUR"))
        lines.append(
            gettext(
                "Late payment: penalties at %(rate)s, and a fixed indemnity of %(indemnity)s "
                "for recovery costs (%(articles)s)."
            )
            % {
                "rate": mentions.late_payment_rate,
                "indemnity": indemnity,
                "articles": mentions.late_payment_articles,
            }
        )
    return lines
