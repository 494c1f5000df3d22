"""Quotes, service orders and the Corporate Billing Portal's views (SPEC flow C)."""
