"""Quizzes: question banks (``bank``, templates with variants in ``template``), sessions
(``session``, the terminal asker ``tty``), scoring (``scoring``), bank lint (``lint``),
Moodle interchange (``formats``) and stored responses (``store``).

Owns: what a question, an answer and a quiz score are.
May import: ``grader.grading.runner`` (to find the workspace) and the utilities.
Must never: import the commands, reports or the instructor side (they call in); trust a
stored score (attempts are re-scored from the bank's keys); ship keys or feedback in a
graded release (``strip_keys``).

Public API (used by the instructor tools):

- ``load_bank(chapter_id, root=None) -> Bank``: ``root`` is the folder that contains
  ``quizzes/`` (default: the workspace, falling back to the package's repo root).
- ``score_attempt(bank, attempt) -> (score, max_score)``: re-scores a stored attempt dict
  from the bank's keys; unknown question/option ids are ignored; the recorded score is
  never read.
- ``strip_keys(bank) -> str``: the TOML text of the keyless bank a graded release ships
  (no ``correct``, no feedback, no explanations; ``graded = true``).
- ``check_bank(bank, strict=True)``, ``check_sources(bank, notes_dir)``: validation.
- ``load_attempts(path)``, ``append_attempt(path, attempt)``, ``responses_path(workspace)``.
"""

from __future__ import annotations

from grader.quiz.bank import (
    Bank,
    BankError,
    Option,
    Question,
    available_banks,
    check_bank,
    check_sources,
    dumps_bank,
    load_bank,
    load_bank_file,
    strip_keys,
    strip_keys_file,
)
from grader.quiz.scoring import score_attempt, score_question
from grader.quiz.store import append_attempt, load_attempts, responses_path

__all__ = [
    "Bank",
    "BankError",
    "Option",
    "Question",
    "append_attempt",
    "available_banks",
    "check_bank",
    "check_sources",
    "dumps_bank",
    "load_attempts",
    "load_bank",
    "load_bank_file",
    "responses_path",
    "score_attempt",
    "score_question",
    "strip_keys",
    "strip_keys_file",
]
