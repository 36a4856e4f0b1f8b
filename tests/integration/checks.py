"""The tally the Python integration tests share: check() records a failed condition, finish() prints the
failures and exits 0 only when there were none."""
import sys

errors = []
count = 0


def check(cond, what):
    global count
    count += 1
    if not cond:
        errors.append(what)


def finish(shown=20):
    for e in errors[:shown]:
        print("FAIL", e)
    print(f"{count - len(errors)} passed, {len(errors)} failed")
    sys.exit(1 if errors else 0)
