"""Quality of the re-litigation warning: precision and recall on labelled title pairs.

``bench/relitigation_pairs.txt`` holds groups of a decision already in the log, true repeats of
it (paraphrases, reordered words, synonyms, typos, other tenses) and false friends (the same
words, a different question). Each (decision, candidate) pair is scored with
``bot.decisions.similar.score``; the warning fires at ``score >= THRESHOLD``. Prints precision
and recall at the chosen threshold, a sweep around it, and the pairs it gets wrong.
Target (issue 18 point 4): precision >= 0.85 at recall >= 0.6.

    .venv/bin/python -m bench.relitigation
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from bot.decisions.similar import THRESHOLD, score

PAIRS_FILE = Path(__file__).with_name("relitigation_pairs.txt")
TARGET_PRECISION = 0.85
TARGET_RECALL = 0.6


@dataclass(frozen=True, slots=True)
class Pair:
    existing: str
    candidate: str
    repeat: bool


def load_pairs(path: Path = PAIRS_FILE) -> list[Pair]:
    pairs: list[Pair] = []
    existing: str | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        mark, text = line[0], line[1:].strip()
        if mark == "=":
            existing = text
        elif mark in "+-" and existing is not None:
            pairs.append(Pair(existing, text, mark == "+"))
        else:
            raise ValueError(f"{path}:{number}: a line starts with =, + or - after a = line")
    return pairs


@dataclass(frozen=True, slots=True)
class Result:
    threshold: float
    true_pos: int
    false_pos: int
    false_neg: int
    true_neg: int

    @property
    def precision(self) -> float:
        fired = self.true_pos + self.false_pos
        return self.true_pos / fired if fired else 1.0

    @property
    def recall(self) -> float:
        repeats = self.true_pos + self.false_neg
        return self.true_pos / repeats if repeats else 1.0


def evaluate(
    pairs: list[Pair], threshold: float = THRESHOLD, scores: list[float] | None = None
) -> Result:
    values = scores if scores is not None else [score(p.existing, p.candidate) for p in pairs]
    tp = fp = fn = tn = 0
    for pair, value in zip(pairs, values, strict=True):
        fired = value >= threshold
        if pair.repeat and fired:
            tp += 1
        elif pair.repeat:
            fn += 1
        elif fired:
            fp += 1
        else:
            tn += 1
    return Result(threshold, tp, fp, fn, tn)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=THRESHOLD)
    parser.add_argument("--quiet", action="store_true", help="no list of misjudged pairs")
    args = parser.parse_args()
    pairs = load_pairs()
    scores = [score(p.existing, p.candidate) for p in pairs]
    repeats = sum(p.repeat for p in pairs)
    print(f"{len(pairs)} labelled pairs: {repeats} repeats, {len(pairs) - repeats} false friends")
    chosen = evaluate(pairs, args.threshold, scores)
    print(
        f"threshold {chosen.threshold:.2f}: precision {chosen.precision:.3f}, "
        f"recall {chosen.recall:.3f} (tp {chosen.true_pos}, fp {chosen.false_pos}, "
        f"fn {chosen.false_neg}, tn {chosen.true_neg})"
    )
    ok = chosen.precision >= TARGET_PRECISION and chosen.recall >= TARGET_RECALL
    print(
        f"target precision >= {TARGET_PRECISION} at recall >= {TARGET_RECALL}: "
        f"{'met' if ok else 'NOT met'}"
    )
    print("\nthreshold  precision  recall")
    for step in range(40, 86, 3):
        r = evaluate(pairs, step / 100, scores)
        print(f"  {r.threshold:.2f}      {r.precision:.3f}    {r.recall:.3f}")
    if not args.quiet:
        print("\nmisjudged at the chosen threshold (score, existing | candidate):")
        for pair, value in sorted(zip(pairs, scores, strict=True), key=lambda x: x[1]):
            if (value >= args.threshold) != pair.repeat:
                kind = "missed repeat" if pair.repeat else "false alarm "
                print(f"  {kind} {value:.2f}  {pair.existing} | {pair.candidate}")


if __name__ == "__main__":
    main()
