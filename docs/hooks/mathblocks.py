r"""A tiny Markdown extension: display math `$$...$$` written inside a paragraph becomes a block.

`pymdownx.arithmatex` recognises `$$...$$` only as a block of its own (blank lines around it), but
the spec statements and the docstrings write display math the LaTeX way, inside the sentence:
`... for every $\lambda > 0$,\n$$A = B ,$$\nso that ...`. This preprocessor puts blank lines
around each such `$$...$$` (at the indentation of its line) and moves punctuation that directly
follows it inside the math. Fenced code is already stashed when it runs, so code is untouched.
"""

from __future__ import annotations

import re

from markdown import Extension
from markdown.preprocessors import Preprocessor

DISPLAY = re.compile(r"(?<![\\$])\$\$(?P<math>[^$]+?)\$\$(?P<punct>[ \t]*[.,;:]?)", re.DOTALL)


class DisplayMathPreprocessor(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        if "$$" not in text:
            return lines
        out, pos = [], 0
        for m in DISPLAY.finditer(text):
            line_start = text.rfind("\n", 0, m.start()) + 1
            indent = re.match(r"[ \t]*", text[line_start:]).group(0)
            punct = m["punct"].strip()
            math = m["math"].rstrip() + (f" {punct}" if punct else "") + " "
            out.append(text[pos : m.start()].rstrip(" \t"))
            out.append(f"\n\n{indent}$${math.strip()}$$\n\n{indent}")
            pos = m.end()
            # drop the whitespace (and one newline) that followed the math on its line
            rest = re.match(r"[ \t]*\n?[ \t]*", text[pos:])
            pos += rest.end() if rest else 0
        out.append(text[pos:])
        return "".join(out).split("\n")


class DisplayMathExtension(Extension):
    def extendMarkdown(self, md) -> None:
        # after fenced code is stashed (superfences, 25), before raw HTML blocks (md_in_html, 20)
        md.preprocessors.register(DisplayMathPreprocessor(md), "dlcore_display_math", 21)
