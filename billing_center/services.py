from django.conf import settings


def set_user_language(*, user, language: str) -> None:
    """Keep the language a user picked, so it follows them to every device and session."""
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"Unknown language {language!r}")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
