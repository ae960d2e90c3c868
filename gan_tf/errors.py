"""The one exception type that means "the user can fix this": the CLI prints it as a
single line and exits non-zero, without a traceback and without writing anything."""


class UserError(Exception):
    """Bad input: a config value, a data file, a run folder. The message names the fix."""


class TrainingDiverged(Exception):
    """A loss became NaN or Inf; the message names the iteration and the loss variant."""
