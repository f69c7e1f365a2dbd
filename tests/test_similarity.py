"""The re-litigation similarity (issue 18 point 4): measured on the labelled pairs, not guessed."""

from __future__ import annotations

from bench.relitigation import TARGET_PRECISION, TARGET_RECALL, evaluate, load_pairs
from bot.decisions.similar import THRESHOLD, best_match, score, terms


def test_labelled_pairs_meet_the_targets_at_the_chosen_threshold() -> None:
    pairs = load_pairs()
    assert len(pairs) >= 300
    assert sum(p.repeat for p in pairs) >= 100
    assert sum(not p.repeat for p in pairs) >= 100
    result = evaluate(pairs, THRESHOLD)
    assert result.precision >= TARGET_PRECISION, result
    assert result.recall >= TARGET_RECALL, result


def test_terms_fold_accents_stem_map_synonyms_and_drop_stopwords() -> None:
    assert terms("Choose the Café vendors") == terms("pick a cafe vendor")
    assert terms("Use PostgreSQL") == terms("use postgres")
    assert "the" not in terms("The billing database")
    assert terms("Moving standup to 10am") == ("move", "standup", "10", "am")


def test_typos_reordering_and_tense_still_match() -> None:
    assert score("Use Postgres for billing", "Use Postgress for billing") >= THRESHOLD
    assert score("Pick a payroll vendor", "Payroll vendor: pick one") >= THRESHOLD
    assert score("Adopt TypeScript for the frontend", "Adopted TypeScript for the frontend") >= (
        THRESHOLD
    )


def test_opposites_and_other_numbers_are_different_questions() -> None:
    assert score("Add dark mode to the dashboard", "Remove dark mode from the dashboard") < (
        THRESHOLD
    )
    assert score("Raise prices by 10%", "Raise prices by 20%") < THRESHOLD
    assert score("Freeze hiring until Q3", "Unfreeze hiring in Q3") < THRESHOLD


def test_best_match_takes_the_closest_above_the_threshold_and_reads_long_resolutions() -> None:
    candidates = [
        (1, "Use Postgres for analytics", None),
        (2, "Use Postgres for billing", "Yes"),
        (3, "Which database?", "We use Postgres for billing"),
    ]
    found = best_match("Billing: use Postgres", candidates)
    assert found is not None and found.decision_id == 2
    assert best_match("Billing on Postgres", [(3, "Which database?", "Postgres billing")]) is None
    only_answer = best_match("Postgres for billing", [candidates[2]])
    assert only_answer is not None and only_answer.decision_id == 3
    assert best_match("Hire a designer", candidates) is None
    assert best_match("", candidates) is None
