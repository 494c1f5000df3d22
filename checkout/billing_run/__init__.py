"""The daily billing run (run.py) and what it does for each day: renewals (renewals.py) and the
retries of open invoices (dunning.py)."""
