"""A phone, for the browser tests: the real Python bindings (`import waystation`) over a data
directory, driven by JSON commands, so that the console is seeded through the real sync path.

    WAYSTATION_TEST_NOW=2026-10-20T02:00:00Z python3 device.py DATA_DIR SERVER_URL TOKEN < commands.json

stdin is a JSON list of commands, run in order; stdout is a JSON list of their results:

- {"op": "report", "author", "category", "description", "merchant", "address", "district",
   "lat", "lon", "photo": path to a JPEG or null} -> the submitted report's id
- {"op": "sync"} -> {"sent", "received", "photos", "complete", "refused"}
- {"op": "case", "report", "actor", "role": "station_staff" | "supervisor" | "grid_worker",
   "kind": "acknowledge" | "note" | "resolve" | "dispatch" | "reject", "note", "grid_id",
   "reason"} -> the case's status after the event
- {"op": "status", "report"} -> {"status", "duplicate_of", "events": [{"kind", "actor", "role",
   "note", "applied"}]}

Why a subprocess and not the test process: the bindings read the device clock from
WAYSTATION_TEST_NOW once per process (core/src/clock.rs, debug builds), and the seed has
reports from two months, so each month's phone actions run in a process of their own with that
month's clock. Nothing here reads the wall clock.
"""

import asyncio
import datetime as dt
import json
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "bindings" / "python"))

import waystation as w  # noqa: E402

RULES = w.default_report_rules()
ROLES = {
    "station_staff": w.CaseRole.STATION_STAFF,
    "supervisor": w.CaseRole.SUPERVISOR,
    "grid_worker": w.CaseRole.GRID_WORKER,
}


def now() -> dt.datetime:
    raw = os.environ.get("WAYSTATION_TEST_NOW")
    if not raw:
        sys.exit("device.py needs WAYSTATION_TEST_NOW (the phone's fixed clock)")
    return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))


def kind_of(cmd: dict):
    k = cmd["kind"]
    if k == "dispatch":
        return w.CaseEventKind.DISPATCH(cmd["grid_id"])
    if k == "reject":
        return w.CaseEventKind.REJECT(cmd["reason"])
    return {
        "acknowledge": w.CaseEventKind.ACKNOWLEDGE,
        "note": w.CaseEventKind.NOTE,
        "resolve": w.CaseEventKind.RESOLVE,
    }[k]()


def main() -> None:
    data_dir, server, token = sys.argv[1:4]
    commands = json.load(sys.stdin)
    phone = w.Waystation(data_dir, w.Options(trusted_keys=[w.demo_publisher_key()]))
    options = w.SyncOptions(server=server, token=token, timeout_ms=10_000, attempts=2)
    # The position was fixed a minute before the phone's clock (the core refuses fixes ahead).
    fix_time = now() - dt.timedelta(minutes=1)
    out = []
    for cmd in commands:
        op = cmd["op"]
        if op == "report":
            reports = phone.reports()
            rid = reports.create_draft(cmd["author"], cmd["category"])
            reports.update_draft(
                rid,
                w.ReportPatch(
                    description=cmd.get("description"),
                    merchant_name=cmd.get("merchant"),
                    address=cmd.get("address"),
                    district=cmd["district"],
                ),
            )
            reports.set_position(
                rid,
                w.PositionFix(lat=cmd["lat"], lon=cmd["lon"], datum=w.Datum.WGS84,
                              accuracy_m=8.0, fix_time=fix_time, mock=False),
            )
            if cmd.get("photo"):
                asyncio.run(reports.attach_photo(rid, Path(cmd["photo"]).read_bytes(), RULES))
            reports.submit(cmd["author"], rid, RULES)
            out.append(rid)
        elif op == "sync":
            r = asyncio.run(phone.sync().run(options))
            out.append({"sent": r.documents_sent, "received": r.documents_received,
                        "photos": r.photos_uploaded, "complete": r.complete,
                        "refused": [str(x) for x in r.refused]})
        elif op == "case":
            view = phone.cases().record(cmd["report"], cmd["actor"], ROLES[cmd["role"]],
                                        kind_of(cmd), cmd.get("note", ""))
            out.append(view.status.name.lower())
        elif op == "status":
            view = phone.cases().get(cmd["report"])
            out.append({
                "status": view.status.name.lower(),
                "duplicate_of": str(view.duplicate_of) if view.duplicate_of else None,
                "events": [{"kind": type(e.event.kind).__name__.split(".")[-1].lower(), "actor": e.event.actor,
                            "role": e.event.role.name.lower(), "note": e.event.note,
                            "applied": e.applied}
                           for e in view.timeline],
            })
        else:
            sys.exit(f"device.py: unknown op {op!r}")
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
