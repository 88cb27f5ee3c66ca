"""The STS service of the emulator: RAM roles, OIDC identity providers and the sessions issued.

``AssumeRole`` (signed with an AccessKey whose policy allows ``sts:AssumeRole`` on the role,
the role's trust policy naming the account) and ``AssumeRoleWithOIDC`` (anonymous: a JWT of a
configured OIDC identity provider, its signature, issuer, audience and expiry verified, the
role's trust policy conditions on its claims evaluated) issue an AccessKey, secret and
security token that expire; the gateway then authenticates them and RAM enforces the role's
permission policy on them.
"""
