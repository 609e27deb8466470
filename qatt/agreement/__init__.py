"""How far reviewers agree: first and second grades paired, reviewer profiles, the corrected estimate, standardisation exercises and many-rater statistics."""
