"""KMS Secrets Manager (API version 2016-01-20): secrets with versions and stages.

``responses`` maps request parameters to :class:`~.models.SecretStore` calls and renders the
SDK's documents; ``models`` holds the secrets and the rules of their versions and stages;
``exceptions`` the service's error codes. Secret values never leave this package except in
a ``GetSecretValue`` answer: the request log redacts them, the admin API and the state
document show names, version IDs and stages only.
"""
