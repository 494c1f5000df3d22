"""Every email leaves through here: plain text and HTML, in the language it is written for."""

import re

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


def send_templated_email(
    *, to: list[str], template: str, context: dict, language: str, cc: list[str] | None = None
) -> None:
    """Render templates/emails/<template>_subject.txt, .txt and .html in `language` and send,
    copied to `cc` if given."""
    with translation.override(language):
        context = {**context, "site_url": settings.SITE_URL, "LANGUAGE_CODE": language}
        subject = render_to_string(f"emails/{template}_subject.txt", context).strip()
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(
        # One line; the narrow no-break space French puts before ":" stays (str.split() would
        # take it for a space).
        subject=re.sub(r"[ \t\r\n]+", " ", subject).strip(),
        body=text,
        to=to,
        cc=cc or [],
    )
    message.attach_alternative(html, "text/html")
    message.send()
