"""The buyer identifiers an accounts-payable platform routes invoices on, by the buyer's country
(SPEC "Prices and documents"): the company's legal identifier — SIREN or SIRET in France,
codice fiscale in Italy, NIF in Spain — and, in Italy, where the SdI delivers (the Codice
Destinatario, or a PEC address). Checked offline with python-stdnum, total like the VAT check:
any text gets an answer, never an exception. The forms, the admin and the invoice all ask here.
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum.es import nif
from stdnum.fr import siren, siret
from stdnum.it import codicefiscale, iva

_SEPARATORS = re.compile(r"[\s.\-/]+")
SDI_CODE = re.compile(r"^[A-Z0-9]{7}$")

# What the legal identifier is called in each country that has one here; elsewhere the field
# takes a company registration number as it is written.
LEGAL_IDENTIFIER_NAMES = {
    "FR": gettext_lazy("SIREN or SIRET"),
    "IT": gettext_lazy("Codice fiscale"),
    "ES": gettext_lazy("NIF"),
}
# The EN 16931 scheme (ISO 6523 ICD) of each country's legal identifier, for the e-invoice.
LEGAL_IDENTIFIER_SCHEMES = {"FR": {9: "0002", 14: "0009"}, "IT": {16: "0210", 11: "0210"}}


def compact_identifier(value: str) -> str:
    return _SEPARATORS.sub("", value or "").upper()


def legal_identifier_problem(value: str, country: str) -> str | None:
    """Why `value` is not the legal identifier of a company of `country`, or None."""
    number = compact_identifier(value)
    if not number:
        return None
    if country == "FR":
        if (len(number) == 9 and siren.is_valid(number)) or (
            len(number) == 14 and siret.is_valid(number)
        ):
            return None
        return _("Enter a valid SIREN (9 digits) or SIRET (14 digits).")
    if country == "IT":
        if codicefiscale.is_valid(number) or iva.is_valid(number):
            return None
        return _("Enter a valid codice fiscale (16 characters, or 11 digits for a company).")
    if country == "ES":
        if nif.is_valid(number):
            return None
        return _("Enter a valid NIF.")
    if len(number) > 30:
        return _("Enter at most 30 characters.")
    return None


def sdi_code_problem(value: str) -> str | None:
    code = compact_identifier(value)
    if code and not SDI_CODE.match(code):
        return _("Enter the 7 letters and digits of the Codice Destinatario.")
    return None


def pec_problem(value: str) -> str | None:
    if not value:
        return None
    try:
        validate_email(value)
    except ValidationError:
        return _("Enter a valid PEC address.")
    return None


def identifiers_problems(
    *, country: str, legal_identifier: str, sdi_code: str, pec: str
) -> dict[str, str]:
    """Each field's problem for a buyer of `country` (the Codice Destinatario and the PEC are
    Italian: elsewhere they must stay empty)."""
    problems = {}
    if problem := legal_identifier_problem(legal_identifier, country):
        problems["legal_identifier"] = problem
    if country != "IT":
        for field, value in (("sdi_code", sdi_code), ("pec", pec)):
            if value:
                problems[field] = _("Only for a buyer in Italy.")
        return problems
    if problem := sdi_code_problem(sdi_code):
        problems["sdi_code"] = problem
    if problem := pec_problem(pec):
        problems["pec"] = problem
    return problems


def legal_identifier_scheme(number: str, country: str) -> str | None:
    """The ISO 6523 scheme of a legal identifier (SIREN 0002, SIRET 0009), when there is one."""
    return LEGAL_IDENTIFIER_SCHEMES.get(country, {}).get(len(compact_identifier(number)))
