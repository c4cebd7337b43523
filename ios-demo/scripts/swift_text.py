"""Reading Swift source text without a Swift parser, for check_swift.py: comments and string
contents removed, brackets matched, argument lists split, labels read. Good enough for the
demo's own code and the generated bindings, which is all it is used on."""
import re


def code_only(text: str, keep_strings: bool = False) -> str:
    """Swift source without comments and (unless keep_strings) string contents; interpolated
    code is kept."""
    out = []
    i, n = 0, len(text)
    depth_stack = []  # for each open string interpolation: paren depth at which it closes
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            if c == "\\" and i + 1 < n and text[i + 1] == "(":
                out.append('" + (')
                depth_stack.append(1)
                in_string = False
                i += 2
                continue
            if c == "\\":
                if keep_strings:
                    out.append(text[i:i + 2])
                i += 2
                continue
            if c == '"':
                out.append('"')
                in_string = False
            elif keep_strings:
                out.append(c)
            i += 1
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c == '"':
            out.append('"')
            in_string = True
            i += 1
            continue
        if depth_stack:
            if c == "(":
                depth_stack[-1] += 1
            elif c == ")":
                depth_stack[-1] -= 1
                if depth_stack[-1] == 0:
                    depth_stack.pop()
                    out.append(') + "')
                    in_string = True
                    i += 1
                    continue
        out.append(c)
        i += 1
    return "".join(out)


def matching(text: str, open_at: int) -> int:
    """Index of the bracket closing the one at open_at (brackets inside string literals, which
    code_only keeps when asked, do not count)."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = []
    in_string = False
    for i in range(open_at, len(text)):
        c = text[i]
        if c == '"' and (i == 0 or text[i - 1] != "\\"):
            in_string = not in_string
        elif in_string:
            continue
        elif c in pairs:
            stack.append(pairs[c])
        elif c in ")]}":
            if not stack or stack.pop() != c:
                raise ValueError(f"unbalanced {c!r} at {i}")
            if not stack:
                return i
    raise ValueError("unclosed bracket")


def split_top(args: str):
    parts, depth, start = [], 0, 0
    in_string = False
    for i, c in enumerate(args):
        if c == '"' and (i == 0 or args[i - 1] != "\\"):
            in_string = not in_string
        elif in_string:
            continue
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(args[start:i])
            start = i + 1
    if args.strip():
        parts.append(args[start:])
    return parts


def call_labels(args: str):
    labels = []
    for part in split_top(args):
        m = re.match(r"\s*([A-Za-z_]\w*)\s*:(?!:)", part)
        labels.append(m.group(1) if m else "_")
    return labels


def params(decl: str):
    """[(label, has_default)] of a parameter list."""
    out = []
    for part in split_top(decl):
        m = re.match(r"\s*(?:`?([A-Za-z_]\w*)`?\s+)?`?([A-Za-z_]\w*)`?\s*:", part)
        if not m:
            continue
        out.append((m.group(1) or m.group(2), "=" in part))
    return out
