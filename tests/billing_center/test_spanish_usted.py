"""Spanish addresses the reader as usted throughout, as the seeds do (SPEC "Languages"): the
catalog is scanned for the tú forms a translation slips into — possessives, pronouns, verbs
in the second person and tú imperatives (with or without an enclitic pronoun)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"

TU_WORDS = re.compile(
    r"\b(tu|tus|ti|contigo|te|puedes|quieres|tienes|debes|has|eres|estás|podrás|verás|"
    r"recibirás|necesitas|haz|ve|sal|pon|ven|di)\b",
    re.IGNORECASE,
)
# Second-person imperatives of the verbs a billing page uses (usted: introduzca, elija, …).
TU_IMPERATIVES = re.compile(
    r"\b(introduce|elige|añade|vuelve|revisa|comprueba|pulsa|asigna|paga|escribe|selecciona|"
    r"intenta|inténtalo|contacta|confirma|quita|libera|compra|cancela|reanuda|guarda|acepta|"
    r"rechaza|invita|cambia|usa|descarga|consulta|espera|continúa|utiliza|indica)"
    r"(lo|la|los|las|le|les|me)?\b",
    re.IGNORECASE,
)
# Third-person uses of the same words, which are usted's too ("su cuenta usa…", "se cancela",
# "¿Por qué cancela?"): the tú imperative of an -ar verb is its third person.
FINE = re.compile(
    r"\b(su cuenta (ahora )?usa|alguna cuenta usa|no se usa|se usa|se vuelve|nota de crédito "
    r"añade|no cambia|Indica si|se cancela|Por qué cancela|las cancela|banco espera|"
    r"pedido de compra)\b",
    re.IGNORECASE,
)


def translations() -> list[str]:
    text = CATALOG.read_text(encoding="utf-8")
    found = []
    for block in text.split("\n\n"):
        strings = re.findall(r'^msgstr(?:\[\d\])? (".*"(?:\n".*")*)', block, flags=re.M)
        for string in strings:
            found.append("".join(re.findall(r'"(.*)"', string)))
    return [t for t in found if t]


def test_the_spanish_catalog_says_usted():
    slips = []
    for text in translations():
        cleaned = FINE.sub("", text)
        if TU_WORDS.search(cleaned) or TU_IMPERATIVES.search(cleaned):
            slips.append(text)
    assert slips == []


def test_the_scan_catches_tu():
    assert TU_WORDS.search("Revisa tu pedido")
    assert TU_IMPERATIVES.search("Revísalo y vuelve a realizarlo".replace("í", "i"))
    assert not TU_WORDS.search(FINE.sub("", "Su cuenta usa el Centro de facturación"))
