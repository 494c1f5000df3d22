import logging


class ClientErrorsOneLine(logging.Filter):
    """Drops the traceback of django.request's 4xx records ("Forbidden (Permission denied):
    /billing/"): the request was refused as designed, and one line says so. 5xx keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if record.exc_info and status is not None and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
