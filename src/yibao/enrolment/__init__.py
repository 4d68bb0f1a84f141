"""Enrolment: regions (统筹区) and their rules, employers, insured persons and their insurance."""
