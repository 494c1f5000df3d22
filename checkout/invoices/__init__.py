"""Invoices and credit notes: issuing them (issuing.py, called by the one order writer), their
stored PDFs (documents.py) and paying an open one (payments.py: Pay now, staff's retry and
void)."""
