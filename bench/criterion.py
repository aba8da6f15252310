"""Read criterion's estimates of the benchmarks named on the command line, print each mean
with the processor, and exit non-zero when one misses its target.

Usage: python3 bench/criterion.py ID[=TARGET_MS] ...

ID is the benchmark's path under target/criterion (`group/function`, or `function` for one
without a group); TARGET_MS, when given, is the most its mean may take, in milliseconds.
Run after `cargo bench` has written the estimates (the Make targets do both).
"""

import json
import pathlib
import sys


def processor() -> str:
    fields = {}
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    avx512 = "yes" if "avx512f" in fields.get("flags", "").split() else "no"
    return (f"{fields.get('model name', '?')} (family {fields.get('cpu family', '?')}, "
            f"model {fields.get('model', '?')}, AVX-512 {avx512})")


def main() -> int:
    root = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"
    print(f"processor: {processor()}")
    missed = False
    for arg in sys.argv[1:]:
        name, _, target = arg.partition("=")
        path = root / name / "new" / "estimates.json"
        if not path.exists():
            print(f"{name}: no estimates at {path.relative_to(root.parent.parent)} "
                  "(run its cargo bench first)")
            return 2
        mean_ms = json.loads(path.read_text())["mean"]["point_estimate"] / 1e6
        line = f"{name}: mean {mean_ms:.4g} ms per iteration"
        if target:
            met = mean_ms <= float(target)
            missed |= not met
            line += f" (target <= {target} ms: {'met' if met else 'NOT met'})"
        print(line)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
