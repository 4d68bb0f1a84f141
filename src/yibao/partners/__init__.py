"""The open API's clients (third-party apps) and their grants."""
