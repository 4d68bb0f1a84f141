"""Contributions (缴费): monthly records and the credit they bring to the personal account."""
