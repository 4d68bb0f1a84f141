"""Kiosk use cases: `devices` (register, revoke, status, the bridge's reports), `sessions` (the
person's session and the audited reads) and `printing` (the 结算单 on the kiosk's printer)."""
