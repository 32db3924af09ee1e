"""The operations: one function per verb, explicit arguments, a result back."""
