# Italian: "2 dicembre 2026", no leading zero, month in lower case (`E`: see formats/__init__.py).
DATE_FORMAT = "j E Y"
DATETIME_FORMAT = "j E Y, H:i"
SHORT_DATE_FORMAT = "d/m/Y"
MONTH_DAY_FORMAT = "j E"
YEAR_MONTH_FORMAT = "E Y"
