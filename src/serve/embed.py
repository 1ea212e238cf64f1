#!/usr/bin/env python3
"""Writes a C++ source file defining `const char NAME[]` with the text of a file (the pages'
script, served from memory). usage: embed.py INPUT OUTPUT NAME"""
import sys


def quote(line):
    out = []
    for b in line.encode("utf-8"):
        c = chr(b)
        if c in '"\\':
            out.append("\\" + c)
        elif 32 <= b < 127:
            out.append(c)
        else:
            out.append("\\%03o" % b)  # three octal digits: never takes the next character along
    return '"' + "".join(out) + '"'


src, dst, name = sys.argv[1:4]
text = open(src, encoding="utf-8").read()
with open(dst, "w", encoding="utf-8") as f:
    f.write(f"// Generated from {src.rsplit('/', 1)[-1]} by src/serve/embed.py.\n")
    f.write(f"namespace certdoctor::serve {{\nextern const char {name}[];\nconst char {name}[] =")
    for line in text.splitlines(keepends=True):
        f.write("\n    " + quote(line))
    f.write(";\n}  // namespace certdoctor::serve\n")
