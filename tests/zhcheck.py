"""Is a Chinese report Chinese in every sentence? Shared by the i18n tests of several chapters.

``prose`` drops what may stay as it is in any language (tracebacks, Python's own exception
text, what the code printed, commands, calls with their arguments, code in backticks or
brackets); ``english_sentences`` finds what is left that reads as English: three or more Latin
words in a row.
"""

from __future__ import annotations

import re

ENGLISH_RUN = re.compile(r"[A-Za-z]+(?:[ ,;:']+[A-Za-z]+){2,}")


def prose(report: str) -> str:
    """The report without what is code, names or Python's own words: tracebacks, the text of
    the exception Python raised, what the code printed, calls with their arguments, commands
    and identifiers."""
    kept = []
    for line in report.splitlines():
        if re.match(r"\s*File \"", line) or re.match(r"\s{6,}\S", line):  # traceback frames and code
            continue
        if re.match(r"\s*│", line):  # what the code printed: its own, Python's or Keras' words
            continue
        line = re.sub(r"(你的代码抛出了异常) .*", r"\1", line)  # Python's exception text stays Python's
        line = re.sub(r"grade [a-z]+( [\w.]+)*", "", line)  # commands
        line = re.sub(r"[\w.]+\([^()]*(\([^()]*\)[^()]*)*\)", "", line)  # calls like softmax(<float64 (7,)>)
        line = re.sub(r"<[^>]*>|\{[^}]*\}|\[[^\]]*\]|`[^`]*`", "", line)
        kept.append(line)
    return "\n".join(kept)


def english_sentences(report: str) -> list[str]:
    """The runs of English words left in the report's prose (none in a Chinese report)."""
    return ENGLISH_RUN.findall(prose(report))
