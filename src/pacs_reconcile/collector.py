"""Python's cyclic garbage collector, set for one command's life rather than a long-running program's.

A command builds a few hundred thousand objects that live until it exits (imported modules, pydantic
models, botocore's service models and clients, the spec) and makes little cyclic garbage. With
CPython's default thresholds (700, 10, 10) the collector walks that whole heap again every few
thousand allocations while it is being built, and at exit the interpreter's finalization collects
every generation over the whole heap several times more. Measured on a plan of the repository's
stack (process CPU, user + system): 1.95 s as it was, 1.35 s with the heap frozen at exit, 1.1 s
with the young generation's threshold raised to 10,000 as well.

At 10,000 the collector still ran 20-35 young and 1-2 middle collections in each command (by
gc.callbacks, wall time inside them, the more the busier the machine): 58-78 ms in a plan of the
repository's stack or the scaled one (1,700 resources), 138-170 ms in `drift --env all` of the
repository's two environments, 86-313 ms in the scaled first apply (2,200 calls). They freed little:
what dies in a command dies by reference counting. The collector's own count of the heap's growth
(container objects allocated less those freed; gc.get_count() with collection off), from the last
collection while the CLI was imported to the command's end: 164-180k for those plans, 167-170k for
the apply, 231-255k for that drift; the young objects at the end of a plan are 125k holding 17.6 MB
by sys.getsizeof (~150 bytes each). A full collection at the end of any of them finds 44-69k
unreachable objects and returns at most 1 MB of RSS. So the young threshold is 500,000: no command
measured reaches it, so none makes a collection, and a longer run (more environments, a larger
apply) still collects each time its heap has grown by that much since the last collection (~70 MB at
~150 bytes an object): cyclic garbage cannot accumulate without bound.

Measured against the benchmark's emulator (40 ms a call), the threshold of 10,000 against 500,000
in alternating runs (peak RSS as ru_maxrss):
- plan of the repository's stack, 11 pairs, load average 2.2-2.5: wall median 0.80 -> 0.75 s, CPU
  0.72 -> 0.67 s, peak RSS 104.9 -> 105.4 MB (largest 106.0 -> 107.1 MB);
- plan of the scaled stack, 5 pairs, load average 4.9-5.9: CPU median 1.33 -> 1.27 s, wall 2.27 ->
  2.25 s, peak RSS 121.4 -> 121.6 MB;
- the scaled first apply, 2 pairs, load average 2.7-5.0: CPU 5.41 and 5.19 -> 4.88 and 4.67 s, peak
  RSS 124.9 and 124.5 -> 125.0 and 125.2 MB.

`gc.freeze()` moves every tracked object to a permanent generation that collections ignore
(Python's gc documentation; added by python/cpython#3705, bpo-31558, "to speed up collection").
Objects still die by reference counting: freezing only stops the collector walking them.
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 500_000
"""Growth of the heap, in objects the collector tracks (allocations less deallocations), between two
collections of the youngest generation (CPython's default is 700): more than any command measured
makes, so that one runs without collections, and a bound on the cyclic garbage of a longer run. The
older generations keep their default ratios: a middle collection every 10 young ones."""


_one_command = False
"""Whether this process is one command's (tune_for_one_command was called)."""


def tune_for_one_command() -> None:
    """No collection while the command runs unless its heap grows by YOUNG_THRESHOLD objects, and
    none over the whole heap at exit.

    For the process entry point only (a library caller keeps its own collector settings)."""
    global _one_command
    _one_command = True
    young, middle, oldest = gc.get_threshold()
    gc.set_threshold(max(YOUNG_THRESHOLD, young), middle, oldest)
    # Registered before anything the command registers, so it runs after every other handler
    # (atexit runs them last in, first out): nothing is left to collect but what finalization frees.
    atexit.register(gc.freeze)


@contextmanager
def settled() -> Iterator[None]:
    """In a command's process: no collection while the spec loads (its kinds imported, their
    validators built, its entries made: a few hundred thousand objects that live until exit), then
    all of them frozen, so that no later collection walks them again. The first collection after a
    load walked every object the load made (20-35 ms for `validate`, more than checking an
    environment) and found nothing to free: what a load leaves behind dies by reference counting.

    Outside a command's process (a library caller, the tests' in-process runs) it does nothing."""
    if not _one_command:
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
