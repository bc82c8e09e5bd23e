"""The scopes of service tokens, as routes check them (``dependencies.require_scope``) and as
auth grants them (its client registry says which service holds which)."""

__all__ = [
    "ACCOUNTS_MANAGE",
    "API_KEYS_EXCHANGE",
    "API_KEYS_MANAGE",
    "BYOK_READ",
    "CREDITS_GRANT",
    "CREDITS_RESERVE",
    "CREDITS_SETTLE",
    "CREDITS_TRANSFER",
    "ORGANIZATIONS_READ",
    "PLANS_READ",
    "REVOCATIONS_READ",
    "USAGE_RECORD",
    "USERS_READ",
]

CREDITS_RESERVE = "credits:reserve"  # hold credits for an answer; extend the hold
CREDITS_SETTLE = "credits:settle"  # finalize or abort a hold with the tokens measured
USAGE_RECORD = "usage:record"  # charge measured usage straight to an account
CREDITS_GRANT = "credits:grant"  # create credits (plans, a platform admin's funding)
CREDITS_TRANSFER = "credits:transfer"  # move credits between accounts (team funding)
ACCOUNTS_MANAGE = "accounts:manage"  # create and read team accounts
USERS_READ = "users:read"  # look users up by username, email or id
API_KEYS_MANAGE = "api-keys:manage"  # mint, list, revoke and rotate team keys
API_KEYS_EXCHANGE = "api-keys:exchange"  # trade an sk- key for a short-lived token
REVOCATIONS_READ = "revocations:read"  # read the recent revocations (at start, reconnect)
ORGANIZATIONS_READ = "organizations:read"  # an organization's teams and a member's role in it
PLANS_READ = "plans:read"  # the plan a user is on (its request limit and models)
BYOK_READ = "byok:read"  # a user's or team's decrypted provider credential (chat only)
