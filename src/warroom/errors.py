"""Errors that reach the user as one clear line and exit status 2."""


class UserError(Exception):
    """Something the user can fix; printed as `warroom: <message>` with no traceback."""
