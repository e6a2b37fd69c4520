"""Errors that are the user's to fix.

A `UserError` carries one plain-language message that names the place (config path, file, row) and the fix.
The CLI prints it and exits with code 2, without a traceback; the Python API raises it as is. Anything else
that goes wrong is a bug and keeps its traceback.
"""


class UserError(ValueError):
    """A mistake in the user's config, data or input. The message says where and what to do."""


class ConfigError(UserError):
    """A config key or value is wrong."""


class DataError(UserError):
    """A dataset, file, column or value cannot be used."""


class DamagedFileError(UserError):
    """A file deepscope wrote (weights, a checkpoint) is cut short, overwritten or not what it claims to be."""
