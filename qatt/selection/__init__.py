"""Choosing cases: recorded, re-derivable draws and their verification, sample sizes, assignments and standing plans, and whether each plan's round was done."""
