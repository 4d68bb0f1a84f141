"""The hotline channel (12333 / 12393): a voice menu over the same use cases as the phone pages.

`ivr` is the menu as a state machine (no telephony inside), `speech` says amounts and dates the
way a person says them, `backend` reaches the use cases, `driver` runs one step of a call and
records it, and the adapters put a telephone in front: `webhook` (a PBX or cloud telephony posts
events over HTTP) and `sip` (a SIP/RTP stack answering calls itself), with `tts` for speech.
"""
