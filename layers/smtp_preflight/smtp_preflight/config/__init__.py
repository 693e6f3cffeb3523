"""What the operator sets in the environment: the dialling policy and each function's variables."""
