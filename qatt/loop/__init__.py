"""The improvement loop: actions to closure, officers' acknowledgement of feedback, and the register of recommendations and commitments."""
