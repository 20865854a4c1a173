"""``grade quiz``: take a chapter quiz, export a bank to Moodle (GIFT/Aiken), import one.

Registered on the main app by ``register(app)``; imports stay light (typer + stdlib), the
quiz package, prompt_toolkit and rich are imported inside the command.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from grader.cli.kit import LangOpt, _h, _lang, guard
from grader.util.i18n import t


class ExportFormat(str, enum.Enum):
    gift = "gift"
    aiken = "aiken"


def register(app: typer.Typer) -> None:
    @app.command(help=_h("help.quiz"))
    @guard
    def quiz(
        chapter: Annotated[str | None, typer.Argument(help=_h("help.quiz.chapter"))] = None,
        plain: Annotated[bool, typer.Option("--plain", help=_h("help.quiz.plain"))] = False,
        answers: Annotated[Path | None, typer.Option("--answers", help=_h("help.quiz.answers"))] = None,
        lang: LangOpt = None,
        seed: Annotated[int | None, typer.Option("--seed", help=_h("help.quiz.seed"))] = None,
        student: Annotated[str | None, typer.Option("--student", help=_h("help.quiz.student"))] = None,
        retry_missed: Annotated[bool, typer.Option("--retry-missed", help=_h("help.quiz.retry_missed"))] = False,
        export: Annotated[ExportFormat | None, typer.Option("--export", help=_h("help.quiz.export"))] = None,
        output: Annotated[Path | None, typer.Option("-o", "--output", help=_h("help.quiz.output"))] = None,
        import_file: Annotated[Path | None, typer.Option("--import", help=_h("help.quiz.import"))] = None,
        force: Annotated[bool, typer.Option("--force", help=_h("help.quiz.force"))] = False,
    ) -> None:
        from grader.util.errors import UsageError

        language = _lang(lang)
        if import_file is not None:
            _import(import_file, output, force, language)
            return
        if chapter is None:
            from grader.quiz import available_banks

            names = ", ".join(available_banks()) or t("quiz.none_found", language)
            raise UsageError(t("quiz.err.name_a_quiz", language, names=names))
        if export is not None:
            _export(chapter, export, output, language)
            return
        _take(chapter, plain=plain, answers=answers, lang=language, seed=seed, student=student, retry_missed=retry_missed)


def _import(path: Path, output: Path | None, force: bool, lang: str) -> None:
    from grader import reports
    from grader.quiz.bank import check_bank, dumps_bank, write_text_atomic
    from grader.quiz.formats import import_aiken, import_gift
    from grader.reports.quiz import render_transfer
    from grader.util.errors import UsageError

    if not path.is_file():
        raise UsageError(t("quiz.err.import_not_a_file", lang, path=path))
    text = path.read_text(encoding="utf-8-sig")
    name = path.stem
    looks_aiken = path.suffix.lower() == ".aiken" or ("ANSWER:" in text and "{" not in text)
    result = (import_aiken if looks_aiken else import_gift)(text, name)
    out = reports.console()
    what = t("quiz.transfer.questions", lang)
    if not result.bank.questions:
        render_transfer(out, what, [], result.skipped, result.notes, lang)
        raise UsageError(t("quiz.err.nothing_imported", lang, path=path))
    target = output or Path(f"{result.bank.chapter}.toml")  # the chapter id when the file carries it, else the file name
    if target.exists() and not force:
        raise UsageError(t("quiz.err.exists", lang, target=target))
    write_text_atomic(target, dumps_bank(result.bank))
    notes = list(result.notes)
    missing = check_bank(result.bank, strict=True)
    if missing:
        notes.append(t("quiz.note.to_fill", lang, n=len(missing), first=missing[0]))
    done = [t("quiz.imported", lang, n=len(result.bank.questions), path=path, format="Aiken" if looks_aiken else "GIFT",
              target=target)]
    render_transfer(out, what, done, result.skipped, notes, lang)


def _export(chapter: str, fmt: ExportFormat, output: Path | None, lang: str) -> None:
    from grader import reports
    from grader.quiz import load_bank
    from grader.quiz.bank import write_text_atomic
    from grader.quiz.formats import export_aiken, export_gift
    from grader.reports.quiz import render_transfer
    from grader.util.errors import UsageError

    bank = load_bank(chapter)
    try:
        result = export_gift(bank, lang) if fmt is ExportFormat.gift else export_aiken(bank, lang)
    except ValueError as exc:
        raise UsageError(f"{bank.chapter}: {exc}.") from None
    n = len(bank.questions) - len(result.skipped)
    if output is None:
        sys.stdout.write(result.text + ("\n" if not result.text.endswith("\n") else ""))
        sys.stdout.flush()
        where = t("quiz.stdout", lang)
    else:
        write_text_atomic(output, result.text)
        where = str(output)
    # the report goes to stderr so that stdout stays a clean file
    render_transfer(
        reports.console(stderr=True),
        t("quiz.transfer.aiken_questions" if fmt is ExportFormat.aiken else "quiz.transfer.questions", lang),
        [t("quiz.exported", lang, n=n, chapter=bank.chapter, format=fmt.value.upper(), where=where)],
        result.skipped,
        [],
        lang,
    )


def _read_answers(path: Path, lang: str) -> dict[str, Any]:
    from grader.util.errors import UsageError

    if not path.is_file():
        raise UsageError(t("quiz.err.answers_not_a_file", lang, path=path))
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".toml":
            from grader.util.tomlcompat import tomllib

            data = tomllib.loads(text)
        else:
            import json

            data = json.loads(text)
    except ValueError as exc:
        raise UsageError(t("quiz.err.answers_unreadable", lang, path=path, error=exc)) from None
    if isinstance(data, dict) and isinstance(data.get("answers"), dict):
        data = data["answers"]
    if not isinstance(data, dict):
        raise UsageError(t("quiz.err.answers_shape", lang, path=path))
    return data


def _offer_resume(out: Any, attempt: dict[str, Any] | None, bank: Any, lang: str, interactive: bool) -> dict[str, Any] | None:
    """Ask whether to carry on an interrupted attempt; the attempt when the answer is yes."""
    if attempt is None:
        return None
    from grader.quiz.session import remaining

    left = len(remaining(attempt, bank))
    done = len([a for a in attempt.get("answers", []) or [] if isinstance(a, dict)])
    prompt = t("quiz.resume_offer", lang, chapter=bank.chapter, done=done, total=done + left)
    if interactive:
        from grader.quiz.tty import choose

        labels = [t("quiz.resume_yes", lang, n=left), t("quiz.resume_no", lang)]
        return attempt if choose(prompt, labels, multi=False, hint="↑/↓ · Enter") == [0] else None
    out.print(prompt)
    out.print(t("quiz.resume_plain", lang), end="")
    line = sys.stdin.readline()
    return None if line.strip().lower() in ("n", "no", "否", "不") else attempt


def _take(
    chapter: str,
    *,
    plain: bool,
    answers: Path | None,
    lang: str,
    seed: int | None,
    student: str | None,
    retry_missed: bool,
) -> None:
    from grader import reports
    from grader.quiz import load_bank
    from grader.quiz.scoring import score_question
    from grader.quiz.session import FileAsker, LineAsker, derive_seed, present, remaining, resumable, run_session
    from grader.quiz.store import append_attempt, attempts_for, load_attempts, responses_path
    from grader.reports.quiz import (
        render_echo,
        render_feedback,
        render_intro,
        render_problem,
        render_question,
        render_summary,
    )
    from grader.util.errors import UsageError

    bank = load_bank(chapter)
    out = reports.console()
    if bank.has_templates:
        # Template questions show this student's numbers: the ones `grade collect` scores them
        # against, re-derived there from the id the submission is filed under.
        n = sum(q.template is not None for q in bank.questions)
        if student is None and not bank.has_keys:
            raise UsageError(t("quiz.variants.need_student", lang, chapter=bank.chapter))
        if student is None:
            out.print(t("quiz.variants.practice", lang, n=n, chapter=bank.chapter), style="grade.dim")
        else:
            out.print(t("quiz.variants.yours", lang, n=n, student=student), style="grade.dim")
        bank = bank.for_student(student)
    store = responses_path()
    loaded = load_attempts(store)
    moved = str(loaded.moved_aside) if loaded.moved_aside else None
    if moved:
        reports.error(t("quiz.err.store_unreadable", lang, store=store, moved=moved), lang)
    mine = attempts_for(loaded.attempts, bank.chapter, student)
    questions = list(bank.questions)
    if retry_missed:
        if not bank.has_keys:
            raise UsageError(t("quiz.err.retry_needs_practice", lang))
        practice = [a for a in mine if a.get("mode") == "practice" and not a.get("unfinished")]
        if not practice:
            raise UsageError(t("quiz.err.no_attempt", lang, chapter=bank.chapter))
        last = practice[-1]
        chosen: dict[str, list[str]] = {}
        for a in last.get("answers", []):
            if isinstance(a, dict) and isinstance(a.get("selected"), list):
                chosen[str(a.get("question"))] = [str(s) for s in a["selected"]]
        recorded = last.get("questions")
        asked: list[str] = [str(q) for q in recorded] if isinstance(recorded, list) else [q.id for q in questions]
        by_id = bank.by_id()
        questions = [by_id[q] for q in asked if q in by_id and score_question(by_id[q], chosen.get(q, [])) < by_id[q].points - 1e-9]
        if not questions:
            out.print(t("quiz.nothing_to_retry", lang))
            return
    if seed is None:
        seed = derive_seed(student, bank.chapter, len(mine) + 1)
    presented = present(questions, seed)
    interactive = answers is None and not plain and sys.stdin.isatty() and sys.stdout.isatty()
    # An attempt interrupted last time (Ctrl-D, Ctrl-C) is offered back when a person is at the
    # keyboard; piped answers and answers files always start a fresh attempt.
    resume = None
    if not retry_missed and answers is None and sys.stdin.isatty():
        resume = _offer_resume(out, resumable(mine, bank), bank, lang, interactive)
    if resume is not None:
        seed = int(resume["seed"])
        presented = remaining(resume, bank)
        out.print(t("quiz.resuming", lang, first=presented[0].number, total=presented[0].total))
    asker: Any
    if answers is not None:
        asker = FileAsker(_read_answers(answers, lang))
    elif interactive:
        from grader.quiz.tty import TtyAsker

        asker = TtyAsker(echo=lambda p, lg, ids: render_echo(out, p, lg, ids))
    else:
        echo_input = not sys.stdin.isatty()

        def readline() -> str:
            line = sys.stdin.readline()
            if echo_input:
                out.print(line.rstrip("\n") if line else "")
            return line

        asker = LineAsker(readline, lambda p, lg: render_question(out, p, lg), lambda msg: render_problem(out, msg))

    def on_answer(r: Any) -> None:
        if bank.has_keys:
            render_feedback(out, r, lang)

    attempt_number = len(mine) + 1
    while True:
        render_intro(out, bank, lang, seed, len(presented))
        result = run_session(bank, presented, asker, seed=seed, student=student, lang=lang, on_answer=on_answer,
                             resume=resume)
        if isinstance(asker, FileAsker):
            for problem in asker.problems:
                render_problem(out, t("quiz.answers_file_problem", lang, problem=problem))
        saved = None
        if result.results or resume is not None:
            again = append_attempt(store, result.attempt, replaces=resume)
            if again.moved_aside and not moved:
                moved = str(again.moved_aside)
            saved = str(store)
        render_summary(out, bank, result, lang, saved_to=saved, moved_aside=moved)
        moved = None
        resume = None
        # In a terminal, offer to retry the missed questions right away (a new recorded attempt).
        missed = [p.question for p in result.missed]
        if not (interactive and bank.has_keys and missed and not result.stopped):
            return
        from grader.quiz.tty import choose

        prompt = t("quiz.retry_now", lang, n=len(missed))
        labels = [t("quiz.yes", lang), t("quiz.no", lang)]
        if choose(prompt, labels, multi=False, hint="↑/↓ · Enter") != [0]:
            return
        attempt_number += 1
        seed = derive_seed(student, bank.chapter, attempt_number)
        presented = present(missed, seed)
