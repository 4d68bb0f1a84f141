"""Use cases of claims, disputes and maker-checker adjustments: the only code here that commits.

One module per case type (rule 9): `claims` (a package: the person's side and the staff's review;
its read side is `claim_reads`), `disputes`, `adjustments`.
"""
