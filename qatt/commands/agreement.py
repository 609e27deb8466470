"""`agreement`: how far first and second reviewers agree on the same cases (calibration).

Grades come either from a sample's submitted first and second reviews (`--sample`) or from a
CSV of pairs (`--pairs`, e.g. the force's self-assessment against the inspectorate's grades).
The statistics themselves are in qatt.stats; this module reads the grades and prints them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, List, Tuple

from qatt.cli import Context
from qatt.errors import QattError

if TYPE_CHECKING:  # the statistics stack is imported when the command runs, not for `--help`
    from qatt.agreement.grade_pairs import GradePair, Scale


def _agreement(args: argparse.Namespace, ctx: Context) -> int:
    from qatt import stats
    from qatt.agreement.grade_pairs import agreement_text, load_scale, read_pairs_csv

    scale = load_scale(args.scale)
    skipped: List[str] = []
    if args.pairs:
        pairs = read_pairs_csv(Path(args.pairs), scale)
        source = f"pairs from {Path(args.pairs).name}"
    else:
        pairs, skipped, source = _sample_pairs(args.sample, scale, ctx)
    result = stats.agreement([(first, second) for _, first, second in pairs], scale.grades,
                             labels=dict(scale.labels))
    data = dict(result.as_dict(), scale=scale.id, labels=dict(scale.labels), source=source,
                skipped_cases=len(skipped))
    text = agreement_text(result, scale.labels, source)
    if skipped:
        text += (f"\nNote: {len(skipped)} case{'s' if len(skipped) != 1 else ''} left out because a grade is not on "
                 f"the {scale.id} scale: {', '.join(skipped)}.")
    ctx.emit(data, text)
    return 0


def _sample_pairs(sample_id: int, scale: Scale, ctx: Context) -> Tuple[List[GradePair], List[str], str]:
    """The sample's pairs on the scale, and the references of pairs left out (ungraded, other scale)."""
    from qatt.trust import audit, users
    from qatt.reports import pairs_for_sample
    from qatt.storage import models as m

    ctx.db()
    # Second reviews are blind to first reviews; comparing them is a moderator's job.
    users.require_role(ctx.actor, "moderator", "compare first and second reviews")
    sample = m.Sample.get_or_none(m.Sample.id == sample_id)
    if sample is None:
        raise QattError(f"There is no sample {sample_id}. Check the sample id.")
    pairs, skipped = [], []
    for reference, first, second in pairs_for_sample(sample_id, viewer=ctx.actor):
        if first in scale.grades and second in scale.grades:
            pairs.append((reference, first, second))
        else:
            skipped.append(reference)
    audit.record(ctx.actor, audit.CONSULTATION, "sample", sample_id,
                 {"purpose": "agreement", "pairs": len(pairs), "skipped": len(skipped)})
    return pairs, skipped, f"sample {sample_id}" + (f" ({sample.name})" if sample.name else "")


def register(add_command) -> None:
    p = add_command("agreement", "agreement between first and second grades (kappa, who graded higher)", _agreement)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--sample", type=int, metavar="SAMPLE_ID",
                        help="use the submitted first and second reviews of this sample")
    source.add_argument("--pairs", metavar="FILE.csv",
                        help="use a CSV with columns case_ref,first_grade,second_grade")
    p.add_argument("--scale", default="g3", help="grading scale of the grades (default g3: good / requires "
                                                  "improvement / inadequate)")
