"""Identity: online accounts, credentials, verification, sessions, staff."""
