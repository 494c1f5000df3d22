"""The one seat-count rule (SPEC "Seat assignment"): forms, services and the admin all ask here."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class SeatCountError(Exception):
    """A seat count the plan or the assigned seats do not allow; the message is for people."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def seat_count_problem(*, plan, seat_count: int, assigned: int = 0) -> str | None:
    """Why `seat_count` seats of `plan` are not allowed, or None: the count stays within the
    plan's minimum and maximum and never goes below the seats already assigned."""
    if not plan.min_seats <= seat_count <= plan.max_seats:
        return _("Choose between %(min)s and %(max)s seats for %(plan)s.") % {
            "min": plan.min_seats,
            "max": plan.max_seats,
            "plan": plan.name,
        }
    if seat_count < assigned:
        return ngettext(
            "%(assigned)s seat is assigned: unassign %(excess)s first, or keep at least "
            "%(assigned)s seat.",
            "%(assigned)s seats are assigned: unassign %(excess)s first, or keep at least "
            "%(assigned)s seats.",
            assigned,
        ) % {"assigned": assigned, "excess": assigned - seat_count}
    return None


def check_seat_count(*, plan, seat_count: int, assigned: int = 0) -> None:
    """Raise SeatCountError when seat_count_problem finds one."""
    problem = seat_count_problem(plan=plan, seat_count=seat_count, assigned=assigned)
    if problem:
        raise SeatCountError(problem)
