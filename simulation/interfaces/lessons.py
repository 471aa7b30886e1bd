"""Lesson packs: one Markdown page per scenario in `lessons/`, in NetLogo's Info-tab pattern
(the question, what to notice, what to try, debrief questions, teacher notes with answers).

Shown in the app's Lesson tab and exported as a self-contained printable HTML handout:

    python -m simulation.interfaces.lessons no_cpec --out no_cpec.html     (print it from the browser)
    python -m simulation.interfaces.lessons --all --out handouts/           (one file per lesson)

`--students` leaves the teacher notes out.
"""

from __future__ import annotations

import re
import sys
from html import escape
from pathlib import Path

import markdown

from simulation.errors import InputError

LESSONS = Path(__file__).resolve().parents[2] / "lessons"
#: The sections every lesson has, in order (tests/test_lessons.py checks each file).
SECTIONS = ("The question", "What to notice", "What to try", "Debrief questions", "Teacher notes")
TEACHER = "Teacher notes"

PRINT_CSS = """
body { font: 12pt/1.45 Georgia, 'DejaVu Serif', serif; max-width: 46em; margin: 2em auto; padding: 0 1em; color: #111; }
h1 { font-size: 20pt; margin-bottom: .2em; } h2 { font-size: 14pt; margin-top: 1.4em; border-bottom: 1px solid #999; }
table { border-collapse: collapse; } td, th { border: 1px solid #999; padding: .2em .5em; }
code { font-size: 10.5pt; } .meta { color: #444; font-size: 10pt; }
.teacher { border-top: 3px double #444; margin-top: 2em; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } .teacher { break-before: page; } a { color: #111; } }
"""


def lesson_names() -> list[str]:
    return sorted(p.stem for p in LESSONS.glob("*.md"))


def lesson_text(name: str) -> str:
    # a lesson's name, not a path: '../README' named a file beside lessons/ and was printed as a lesson
    if name not in lesson_names():
        raise InputError(f"no lesson for scenario {name!r} (lessons: {', '.join(lesson_names())})",
                         field="scenario")
    return (LESSONS / f"{name}.md").read_text(encoding="utf-8")


def sections(text: str) -> dict[str, str]:
    """'## Heading' -> body, in order."""
    parts = re.split(r"^## +(.+?)\s*$", text, flags=re.M)
    return {parts[k].strip(): parts[k + 1].strip() for k in range(1, len(parts) - 1, 2)}


def split_teacher(text: str) -> tuple[str, str]:
    """(the students' part, the teacher notes) of a lesson."""
    m = re.search(rf"^## +{TEACHER}\b", text, flags=re.M)
    return (text, "") if m is None else (text[: m.start()], text[m.start():])


def to_html(text: str) -> str:
    """Markdown to an HTML fragment (tables and lists; no script, no external resource)."""
    return markdown.markdown(text, extensions=["tables", "sane_lists"], output_format="html")


def handout(name: str, students_only: bool = False) -> str:
    """A self-contained printable HTML page: print CSS inline, no script, no link to fetch."""
    students, teacher = split_teacher(lesson_text(name))
    title = next((line[2:].strip() for line in students.splitlines() if line.startswith("# ")), name)
    body = to_html(students)
    if teacher and not students_only:
        body += f"<div class='teacher'>{to_html(teacher)}</div>"
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{PRINT_CSS}</style></head><body>"
            f"<p class='meta'>Balance of power in South Asia, 1947-2024 · lesson for scenario "
            f"<code>scenarios/{escape(name)}.yaml</code> · open the app with <code>python -m simulation app</code></p>"
            f"{body}</body></html>\n")


def main(argv: list[str] | None = None) -> int:
    """Write one handout (a file) or every handout (a folder), by the command line's contract
    (`interfaces/contract.py`): everything checked first, then written whole; a mistake is one line
    and exit code 2, and nothing of the user's is overwritten without --force."""
    from simulation.interfaces import contract, output

    parser = contract.Parser(prog="python -m simulation.interfaces.lessons",
                             description="export a scenario's lesson as a printable HTML handout")
    parser.add_argument("scenario", nargs="?", help="scenario name, e.g. no_cpec (see lessons/)")
    parser.add_argument("--all", action="store_true", help="every lesson, one file each, into the --out folder")
    parser.add_argument("--out", type=contract.OUT, required=True, help="the HTML file (or, with --all, the folder)")
    parser.add_argument("--students", action="store_true", help="leave the teacher notes out")
    parser.add_argument("--force", action="store_true",
                        help="replace --out if it exists (with --all: if it holds something other than earlier handouts)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or an argument error, already printed on one line (2)
        return exc.code if isinstance(exc.code, int) else contract.EXIT_USAGE
    try:
        if args.all == bool(args.scenario):
            raise InputError("give a scenario or --all" + (", not both" if args.all else ""), field="scenario")
        out = Path(args.out)
        if args.all:
            output.check_out(out, "lessons", args.force)
            pages = {name: handout(name, args.students) for name in lesson_names()}

            def write(folder: Path) -> None:
                for name, page in pages.items():
                    (folder / f"{name}.html").write_text(page, encoding="utf-8")

            output.write_atomically(out, write, "lessons", args.force)
            print(f"{len(pages)} handouts in {out}")
        else:
            page = handout(args.scenario, args.students)
            output.check_file(out, args.force)

            def write_page(tmp: Path) -> None:
                tmp.write_text(page, encoding="utf-8")

            output.write_file(out, write_page)
            print(f"handout written to {out}")
    except InputError as exc:
        return contract.fail(exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
