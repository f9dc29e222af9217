# The figure tests' world, for any reports test that asks for it; the frozen `_today` stays opt-in.
from .figure_data import ledger, people, world  # noqa: F401
