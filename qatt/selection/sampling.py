"""Defensible random samples: simple, stratified and systematic draws, reserves, replacement, verification.

Every draw is recorded with what an inspector needs to re-derive it independently: the seed, the
method and its parameters, the filters, the references the exclusion window removed, fingerprints
of the population and of the eligible set, and the algorithm version. The algorithm itself
("qatt-sampling/1") is specified in docs/sampling.md; `derive_draw` is its reference implementation
and is pure (no database), so `verify_sample` re-runs exactly what `draw_sample` ran.

The parts:
  sampling_rule    the algorithm qatt-sampling/1 (pure): strata, sub-seeds, fingerprint, allocation, the draw
  eligible_set     reading the eligible set, the exclusion window and the population's fingerprint (SQL)
  drawing          checking a request, drawing and recording a sample in one transaction
  replacement      bringing in a reserve for a sampled case
  verification     re-deriving a recorded sample and reporting the differences
  sample_listings  the recorded samples and their items

This module is the entry point: callers import the names below from here.
"""

from qatt.selection.drawing import (
    DRAW_ROLE, REDRAW_ROLE, DrawResult, SampleRequest, draw_sample, undated_message)
from qatt.selection.eligible_set import CASE_COLUMNS
from qatt.selection.replacement import replace_item
from qatt.selection.sample_listings import SampleRow, list_samples, sample_items
from qatt.selection.sampling_rule import (
    ALGORITHM, METHOD_LABELS, METHODS, DrawnItem, DrawSpec, StratumSummary, allocate_proportional, derive_draw,
    eligible_fingerprint, stratum_key, stratum_seed, systematic_interval)
from qatt.selection.verification import REPORT_LIMIT, Verification, verify_sample

__all__ = [
    "ALGORITHM", "CASE_COLUMNS", "DRAW_ROLE", "METHOD_LABELS", "METHODS", "REDRAW_ROLE", "REPORT_LIMIT",
    "DrawResult", "DrawSpec", "DrawnItem", "SampleRequest", "SampleRow", "StratumSummary", "Verification",
    "allocate_proportional", "derive_draw", "draw_sample", "eligible_fingerprint", "list_samples", "replace_item",
    "sample_items", "stratum_key", "stratum_seed", "systematic_interval", "undated_message", "verify_sample",
]
