"""A benchmark step in a process of its own: `python -m bench.step NAME 'JSON kwargs'`.

Runs on config.bench_settings and prints one line `BENCH-RESULT {json}` at the end; everything
else it prints is progress, echoed by the parent.
"""

import json
import os
import sys


def _shape(kwargs: dict):
    from .data import Shape

    values = dict(kwargs.pop("shape"))
    values.pop("generator", None)
    return Shape(**values)


def main() -> int:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.bench_settings"
    import django

    django.setup()
    from . import close, data, importing, visits, web
    from .runner import RESULT_PREFIX

    name, kwargs = sys.argv[1], json.loads(sys.argv[2])

    def echo(line: str) -> None:
        print(line, flush=True)

    if name == "manifest":
        result = {"manifest": data.manifest()}
    elif name == "build":
        result = {"manifest": data.build(_shape(kwargs), echo)}
    elif name in close.STEPS:
        result = close.STEPS[name](echo=echo, **kwargs)
    elif name in importing.STEPS:
        result = importing.STEPS[name](echo=echo, **kwargs)
    elif name in web.STEPS:
        result = web.STEPS[name](echo=echo, **kwargs)
    elif name in visits.STEPS:
        result = visits.STEPS[name](echo=echo, **kwargs)
    else:
        raise SystemExit(f"unknown step {name}")
    print(RESULT_PREFIX + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
