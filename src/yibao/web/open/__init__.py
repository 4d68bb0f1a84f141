"""The open API channel (开放平台): partner apps reach a person's data only as the person allowed.

`consent` (the consent page), `tokens` (OAuth 2.0 token, revocation, introspection, metadata),
`api` (/open/v1 reads, with `views`), `problems` (RFC 9457 and OAuth error bodies).
"""
