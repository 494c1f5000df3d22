# English: "5 August 2028", "5 August 2028, 14:05" — the month spelled out, not the AP style
# Django ships ("Aug. 5, 2028"); day first, as the sellers' and buyers' countries write it.
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "d/m/Y"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
