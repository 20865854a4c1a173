"""Nothing one submission writes reaches the next one graded in the same session.

In ``grade collect`` the workers of a batch are forked one after another from one fork
server, inside one sandbox. The first submission writes everywhere it can: a module
named like one the next worker imports later (in every folder on its import path, at
the root, in ``/usr``), files in ``/tmp``, ``/dev`` and ``/dev/shm``, a folder in
``/tmp`` nobody may list, and files until ``/tmp`` is full. The second
submission, an honest one, must find none of it: its import of that module is the
standard library's, and the shared places are empty.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from grader.grading.catalog import load_catalog
from grader.instructor.batch import run_batch
from tests import container_profile
from tests.conftest import REPO, has_bwrap
from tests.security.jail_helpers import confined_batch

CHAPTER = load_catalog().chapter("chapter2")
SANDBOXES = ["none"] + (["bwrap"] if has_bwrap() else []) + (["container"] if container_profile.available() else [])

PLANTER = textwrap.dedent('''
    import json, os, sys

    def AND(x1, x2):
        planted = []
        places = [p for p in sys.path if p] + ["/", "/usr", "/usr/lib", "/tmp", "/dev", "/dev/shm", os.getcwd(),
                                               os.environ.get("TMPDIR", "/tmp")]
        for folder in places:
            for name in ("statistics.py", "planted-marker"):
                path = os.path.join(folder, name)
                try:
                    with open(path, "w") as f:
                        f.write("PLANTED = True\\n")
                    planted.append(path)
                except OSError:
                    pass
        # a folder nobody may list (not even its owner, until it chmods it back), and a
        # /tmp filled to its cap
        tmp = os.environ.get("TMPDIR", "/tmp")
        try:
            os.makedirs(os.path.join(tmp, "locked/inner"))
            with open(os.path.join(tmp, "locked/inner/planted-marker"), "w") as f:
                f.write("x")
            os.chmod(os.path.join(tmp, "locked/inner"), 0)
            os.chmod(os.path.join(tmp, "locked"), 0o311)
        except OSError:
            pass
        filled = 0
        try:
            for i in range(10_000):
                with open(os.path.join(tmp, f"fill-{i}"), "wb") as f:
                    f.write(b"x" * (1 << 20))
                filled += 1
        except OSError:
            pass
        raise ValueError("PLANTED" + json.dumps([planted, filled]) + "END")
''')

VICTIM = textwrap.dedent('''
    import json, os, sys

    def AND(x1, x2):
        import statistics
        seen = {"module": getattr(statistics, "PLANTED", False), "files": []}
        for folder in [p for p in sys.path if p] + ["/", "/usr", "/usr/lib", "/tmp", "/dev", "/dev/shm", os.getcwd()]:
            if os.path.exists(os.path.join(folder, "planted-marker")):
                seen["files"].append(folder)
        tmp = os.environ.get("TMPDIR", "/tmp")
        seen["tmp"] = sorted(os.listdir(tmp))
        seen["locked"] = os.path.exists(os.path.join(tmp, "locked/inner/planted-marker"))
        with open(os.path.join(tmp, "room"), "wb") as f:  # the victim still has its scratch space
            f.write(b"x" * (2 << 20))
        raise ValueError("SEEN" + json.dumps(seen) + "END")
''')


def _payload(report, tag: str):
    message = next(t.message for t in report.tests if t.exercise == "chapter2.AND")
    assert tag in message, message
    return json.loads(message.split(tag, 1)[1].split("END", 1)[0])


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_a_submission_leaves_nothing_for_the_next_one(make_target, sandbox):
    solution = (REPO / "solutions" / "chapter2" / "perceptron.py").read_text(encoding="utf-8")
    first = make_target("chapter2", {"perceptron.py": solution + PLANTER}, base="solutions")
    second = make_target("chapter2", {"perceptron.py": solution + VICTIM}, base="solutions")
    if sandbox == "container":
        # the chroot jail: the planter's /tmp is a folder on disk, watched; it is stopped
        # once it holds more than a bubblewrap /tmp could
        reports = confined_batch(CHAPTER, [("planter", first), ("victim", second)])
        assert any(e.startswith("jail root") for e in reports["victim"].isolation)
        planter = [t for t in reports["planter"].tests if t.exercise == "chapter2.AND"]
        assert planter and {t.status for t in planter} <= {"resource", "error"}, planter
        assert any("/tmp than allowed" in t.message for t in planter), planter
        seen = _payload(reports["victim"], "SEEN")
        assert seen == {"module": False, "files": [], "tmp": [], "locked": False}
        return
    reports = run_batch(CHAPTER, [("planter", first), ("victim", second)], sandbox=sandbox)
    planted, filled = _payload(reports["planter"], "PLANTED")
    # it could write only to its private /tmp (never into runtime folders a venv under /tmp
    # puts there), and only up to its cap (not the machine's memory)
    from grader.boundary import sandbox

    frozen = [s[1] for s in sandbox.plan()[0] if s[0] == "remount-ro" and s[1].startswith("/tmp/")]
    assert planted and all(p.startswith("/tmp/") for p in planted), planted
    assert not [p for p in planted if any(p.startswith(f + "/") for f in frozen)], planted
    assert 8 <= filled <= 64, filled
    seen = _payload(reports["victim"], "SEEN")
    # /tmp holds nothing of the planter's: at most the frozen folders that hold runtime
    seen["tmp"] = [name for name in seen["tmp"] if "/tmp/" + name not in frozen]
    assert seen == {"module": False, "files": [], "tmp": [], "locked": False}
    # the rest of the victim's work is graded as usual (XOR is built from AND)
    others = [t for t in reports["victim"].tests if t.exercise in ("chapter2.NAND", "chapter2.OR")]
    assert others and all(t.status == "passed" for t in others)
