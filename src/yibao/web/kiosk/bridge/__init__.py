"""The kiosk's card-reader bridge: runs on the kiosk beside its browser, reads the inserted
social-security card through PC/SC (pcscd + pyscard), reports it and the printer's state to the
server with the kiosk's key, and prints the jobs the server hands it through the kiosk's CUPS.
Run it with `python -m yibao.web.kiosk.bridge` (docs/kiosk.md)."""
