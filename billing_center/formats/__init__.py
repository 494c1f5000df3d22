"""Dates as each language writes them (FORMAT_MODULE_PATH): "2 décembre 2026", "2 dicembre 2026",
"2 de diciembre de 2026". Pages, emails and invoice PDFs all format through these modules, since
they render under the reader's (or the account's) active language.

Django's Italian catalog capitalises month names ("Dicembre"), which Italian does not. Its
"alt. month" names (the `E` format character) are translated in our catalogs instead, where
Italian writes them in lower case; the markers below keep them in the catalogs.
"""

from django.utils.translation import pgettext_lazy

ALT_MONTHS = (
    pgettext_lazy("alt. month", "January"),
    pgettext_lazy("alt. month", "February"),
    pgettext_lazy("alt. month", "March"),
    pgettext_lazy("alt. month", "April"),
    pgettext_lazy("alt. month", "May"),
    pgettext_lazy("alt. month", "June"),
    pgettext_lazy("alt. month", "July"),
    pgettext_lazy("alt. month", "August"),
    pgettext_lazy("alt. month", "September"),
    pgettext_lazy("alt. month", "October"),
    pgettext_lazy("alt. month", "November"),
    pgettext_lazy("alt. month", "December"),
)
