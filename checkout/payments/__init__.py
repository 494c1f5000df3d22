"""Taking money: the processor's interface (gateway), payment attempts (attempts), the one
sequence every payment passes through (money_path) and the reconciliation that finishes what
a gone request left (reconciliation)."""
