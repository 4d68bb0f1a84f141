"""The personal account (个人账户) and its append-only ledger."""
