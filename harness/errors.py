"""Errors the CLI turns into one clear line and exit status 2."""


class HarnessError(Exception):
    """A user-facing error: bad input, missing or corrupt data. The message is one line."""


class DataIntegrityError(HarnessError):
    """A downloaded or cached file does not match its pinned checksum or size."""


class MissingDataError(HarnessError):
    """A required data file is not in the cache (and could not be fetched here)."""
