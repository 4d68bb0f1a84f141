"""Use cases of claims, disputes and maker-checker adjustments: the only code here that commits.

One module per case type (rule 9): `claims` (and its read side, `claim_reads`), `disputes`,
`adjustments`.
"""
