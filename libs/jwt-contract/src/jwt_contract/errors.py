class InvalidToken(Exception):
    """The token is missing, malformed, expired, forged or of the wrong kind.

    The reason is for logs only: clients always get the same message.
    """


class UnknownKey(InvalidToken):
    """The token names a ``kid`` the verifier does not (yet) know."""

    def __init__(self, kid: str) -> None:
        super().__init__(f"unknown kid {kid!r}")
        self.kid = kid
