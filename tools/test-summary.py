#!/usr/bin/python3
"""Counts the TAP subtests in meson's testlog.json files and prints 'N passed, N failed'
(and ', N skipped' if any) as the last line. A test program that crashed or timed out before
printing its plan counts as one failure."""
import json
import re
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            entry = json.loads(line)
            out = entry.get("stdout") or ""
            p = f_ = s = 0
            for m in re.finditer(r"^(not ok|ok)\b[^\n]*", out, re.M):
                text = m.group(0)
                if "# SKIP" in text.upper():
                    s += 1
                elif m.group(1) == "ok":
                    p += 1
                else:
                    f_ += 1
            if entry.get("result") not in ("OK", "SKIP", "EXPECTEDFAIL") and f_ == 0:
                f_ = 1  # died before reporting the failing subtest
            passed += p
            failed += f_
            skipped += s
summary = "%d passed, %d failed" % (passed, failed)
if skipped:
    summary += ", %d skipped" % skipped
print(summary)
