"""Postal addresses as the country writes them, for pages, emails and invoices.

The locality line is where countries differ: "Springfield, OR 97477" in the United States,
"Toronto, ON M5V 2T6" in Canada, "London" then "SW1A 1AA" in the United Kingdom, "00144 Roma RM"
in Italy, "75002 Paris" in most of continental Europe. The country's name is written in the given
language, else the active one (the invoice's or the reader's).
"""

from django.utils import translation
from django_countries import countries

# City, then region and postal code on one line.
_CITY_REGION_POSTAL = {"US", "CA", "AU"}
# City on one line, the postcode alone on the next.
_CITY_THEN_POSTCODE = {"GB", "IE"}
# Postal code, city and the province's abbreviation on one line.
_POSTAL_CITY_REGION = {"IT"}


def _locality_lines(country: str, postal_code: str, city: str, region: str) -> list[str]:
    def joined(*parts: str, sep: str = " ") -> str:
        return sep.join(part for part in parts if part)

    if country in _CITY_REGION_POSTAL:
        region_postal = joined(region, postal_code)
        if country == "AU":
            return [joined(city, region_postal)]
        return [joined(city, region_postal, sep=", ")]
    if country in _CITY_THEN_POSTCODE:
        return [joined(city, region), postal_code]
    if country in _POSTAL_CITY_REGION:
        return [joined(postal_code, city, region)]
    return [joined(postal_code, city), region]


def format_address(
    *,
    line1: str,
    line2: str = "",
    postal_code: str = "",
    city: str = "",
    region: str = "",
    country: str = "",
    language: str | None = None,
) -> list[str]:
    """The address's lines, empty ones left out, the country's name last."""
    country = str(country or "").upper()
    lines = [line1, line2, *_locality_lines(country, postal_code, city, region)]
    lines = [line.strip() for line in lines if line and line.strip()]
    if country:
        if language:
            with translation.override(language):
                lines.append(str(countries.name(country)))
        else:
            lines.append(str(countries.name(country)))
    return lines
