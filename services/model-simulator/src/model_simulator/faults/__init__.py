"""What a request asks of the simulator beyond the provider's API: faults and timing knobs."""

from model_simulator.faults.directives import (
    DirectiveError,
    Directives,
    Fault,
    FaultKind,
    read_directives,
)

__all__ = ["DirectiveError", "Directives", "Fault", "FaultKind", "read_directives"]
