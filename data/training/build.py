#!/usr/bin/env python3
"""Assembles the course files into the payload of the Xi'an training pack.

    python3 data/training/build.py [--out PATH]

reads data/training/courses/*.json and writes data/training/xian-training.payload.json (next to
this script) unless --out is given. The output is deterministic: courses in the fixed order
below, keys in the order of the course files, the same bytes on every run (standard library
only). Sign it with

    cargo run -p waystation-cli -- pack sign --key data/keys/demo-publisher.json \\
        --in data/training/xian-training.payload.json \\
        --out data/training/xian-training.pack.json \\
        --type application/vnd.waystation.training-pack+json

The format is documented in docs/formats/training-pack.md and enforced by
core/src/training/pack.rs; this script only checks what it needs to assemble the pack.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
COURSES_DIR = HERE / "courses"
DEFAULT_OUT = HERE / "xian-training.payload.json"

# Display order: food safety first (the supervisors' job), then the road, rights, first aid.
COURSE_ORDER = [
    "food-safety-delivery",
    "ebike-traffic-safety",
    "workers-rights",
    "first-aid-basics",
]

HEADER = {
    "format": "waystation/training-pack",
    "format_version": 1,
    "pack_id": "xian-training",
    "version": 1,
    "publisher": "Waystation demo publisher (not the City of Xi'an)",
    "created": "2026-11-28T00:00:00Z",
    "notice": (
        "培训内容依据所引用的法律、法规和国家标准编写，仅供学习参考；具体规定以有关部门发布的"
        "最新版本为准。"
        " Training content written from the laws, regulations and national standards it cites,"
        " for learning only; the current official texts prevail."
    ),
}


def load_courses() -> list[dict]:
    found = sorted(p.stem for p in COURSES_DIR.glob("*.json"))
    missing = [c for c in COURSE_ORDER if c not in found]
    extra = [c for c in found if c not in COURSE_ORDER]
    if missing or extra:
        sys.exit(f"course files and COURSE_ORDER disagree: missing {missing}, not ordered {extra}")
    courses = []
    for cid in COURSE_ORDER:
        with open(COURSES_DIR / f"{cid}.json", encoding="utf-8") as f:
            course = json.load(f)
        if course.get("id") != cid:
            sys.exit(f"{cid}.json: id is {course.get('id')!r}, expected {cid!r}")
        courses.append(course)
    return courses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()

    courses = load_courses()
    payload = dict(HEADER)
    payload["courses"] = courses
    text = json.dumps(payload, ensure_ascii=False, indent=2) + "\n"
    args.out.write_text(text, encoding="utf-8")

    lessons = sum(len(c["lessons"]) for c in courses)
    questions = sum(len(c["quiz"]["questions"]) for c in courses if c.get("quiz"))
    print(
        f"wrote {args.out.name}: {len(courses)} courses, {lessons} lessons, "
        f"{questions} questions, {len(text.encode('utf-8'))} bytes",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
