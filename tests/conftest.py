"""Suite-wide settings: hypothesis without per-example deadlines.

CI machines are small and shared; a property that is correct must not fail because one
example took longer than hypothesis' default 200 ms there. Example counts stay as each
test sets them, so the suite's total time is unchanged.
"""

from hypothesis import settings

settings.register_profile("suite", deadline=None)
settings.load_profile("suite")
