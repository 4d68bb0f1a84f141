"""Use cases of the open API: `registry` (partner apps, maker-checker), `authorise` (OAuth 2.0
code with PKCE, tokens), `access` (a partner's call; the person's grants)."""
