"""The trust boundary: everything about running untrusted student code. The worker process
(``worker``, started through ``forkserver`` or directly by ``channel``, booted as ``boot``
says), the channel to it (``channel``: frames, deadlines, limits), the wire format (``codec``: plain data and arrays,
never pickle), the proxies that stand for objects living in the worker (``proxy``), the OS
sandbox (``sandbox``, ``jail``, ``cgroup``) and the memory a container leaves (``container``).

Owns: what student code may see and do, and how its answers come back.
May import: the standard library, msgpack, numpy (lazily, for arrays) and ``grader.util``;
nothing else of the grader. A new sandbox rule goes in ``sandbox.py`` (mounts, limits) or
``jail.py`` (the read-only runtime the worker sees).
Must never: decode anything from the worker without a bound (every frame, array and string
is size-checked before it is allocated); unpickle or ``eval`` anything the worker sent;
import student code into the grader's process; import the commands, grading, the
instructor side, quizzes or reports (it is the layer they all stand on).
"""

# The first isolation entry when the worker saw the machine's file system (no bubblewrap,
# no namespaces): reports show it as a warning, and grade collect refuses to run that way.
ISOLATION_WEAK = "isolation: weak (no sandbox could be made; student code could read this machine's files)"
