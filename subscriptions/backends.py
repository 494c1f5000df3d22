"""Who is signed in and where, in one query per request."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class MembershipBackend(ModelBackend):
    """Django's ModelBackend, whose signed-in user comes with their membership and its account
    (a join, not two more queries): AccountMiddleware reads both on every request (issue 22).
    Read afresh on each request, so a membership changed or removed is seen at once."""

    def get_user(self, user_id):
        user = (
            get_user_model()
            ._default_manager.select_related("membership__account")
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None
