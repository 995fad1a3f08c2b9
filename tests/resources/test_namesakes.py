"""The shared look for a namesake before a create (resources/_namesakes.py), without AWS: threads,
and a read that can be held while others ask. What must hold is the look's safety: a create is
answered by a read that started after it asked, or by a read ahead of its name at most the
window old (LOOK_WINDOW_SECONDS, on a clock the test moves)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from pacs_reconcile.resources._namesakes import NamesakeLooks

WAIT = 10.0
"""Seconds a test waits for a thread to reach a point before failing (never reached when it works)."""


class Denied(Exception):
    pass


class World:
    """Names that exist now, and a read of them that can be held at its start; the first `failing`
    reads fail."""

    def __init__(self, failing: int = 0) -> None:
        self.existing: dict[str, str] = {}
        self.reads: list[list[str]] = []
        self.failing = failing
        self.hold = threading.Event()
        self.hold.set()
        self.reading = threading.Event()

    def read(self, names: Sequence[str]) -> Mapping[str, str]:
        self.reads.append(list(names))
        if len(self.reads) <= self.failing:
            raise Denied("AccessDenied")
        self.reading.set()
        assert self.hold.wait(WAIT)
        return {name: self.existing[name] for name in names if name in self.existing}


def behind_a_held_read(
    world: World, looks: NamesakeLooks[str], first: str, rest: list[str]
) -> list[str | None]:
    """`first` is looked for and its read held at its start; the `rest` ask meanwhile and wait;
    then the read goes on. The answers, in that order."""
    world.hold.clear()
    with ThreadPoolExecutor(1 + len(rest)) as pool:
        asked = [pool.submit(looks.look, first)]
        assert world.reading.wait(WAIT)
        asked += [pool.submit(looks.look, name) for name in rest]
        until(lambda: looks.waiting() == len(rest))
        world.hold.set()
        return [future.result(WAIT) for future in asked]


def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "the looks never reached the expected state"
        time.sleep(0.001)


def test_a_look_asked_while_a_read_is_under_way_waits_for_the_next_read() -> None:
    """The namesake appears after the first read looked and before the second create asked: the
    second create sees it (a read made before it asked would have answered "none")."""
    world = World()
    looks = NamesakeLooks(world.read, batch_size=100)
    world.hold.clear()
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(looks.look, "a")
        assert world.reading.wait(WAIT)  # the read of ["a"] is under way
        world.existing["b"] = "someone else's"
        second = pool.submit(looks.look, "b")
        until(lambda: looks.waiting() == 1)
        world.hold.set()
        assert first.result(WAIT) is None
        assert second.result(WAIT) == "someone else's"
    assert world.reads == [["a"], ["b"]]


def test_looks_asked_while_a_read_is_under_way_share_the_next_read() -> None:
    world = World()
    looks = NamesakeLooks(world.read, batch_size=100)
    world.existing["n3"] = "theirs"
    answers = behind_a_held_read(world, looks, "n0", [f"n{i}" for i in range(1, 8)])
    assert answers == [None, None, None, "theirs", None, None, None, None]
    assert looks.reads == 2
    assert [sorted(read) for read in world.reads] == [["n0"], [f"n{i}" for i in range(1, 8)]]


def test_a_read_takes_at_most_batch_size_names() -> None:
    world = World()
    looks = NamesakeLooks(world.read, batch_size=3)
    assert behind_a_held_read(world, looks, "n0", [f"n{i}" for i in range(1, 8)]) == [None] * 8
    assert [len(read) for read in world.reads] == [1, 3, 3, 1]
    assert sorted(name for read in world.reads for name in read) == [f"n{i}" for i in range(8)]


def test_a_failed_read_fails_every_look_of_it_and_the_next_look_reads_again() -> None:
    world = World(failing=1)
    looks = NamesakeLooks(world.read, batch_size=100)
    with pytest.raises(Denied):
        looks.look("a")
    assert looks.look("a") is None  # a failed read is never "absent", and is not kept
    assert world.reads == [["a"], ["a"]]


def test_a_name_asked_twice_at_once_is_read_once() -> None:
    world = World()
    looks = NamesakeLooks(world.read, batch_size=100)
    assert behind_a_held_read(world, looks, "x", ["y", "y"]) == [None, None, None]
    assert world.reads == [["x"], ["y"]]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_read_takes_the_names_expected_next_up_to_batch_size_and_they_are_not_read_again() -> None:
    world = World()
    looks = NamesakeLooks(world.read, batch_size=4, clock=Clock(), refill_below=0)
    looks.expect(f"n{i}" for i in range(10))
    assert [looks.look(name) for name in ("n2", "n0", "n1", "n3")] == [None] * 4
    assert world.reads == [["n2", "n0", "n1", "n3"]]
    world.existing["n5"] = "theirs"
    assert [looks.look(name) for name in ("n4", "n5")] == [None, "theirs"]
    assert world.reads == [["n2", "n0", "n1", "n3"], ["n4", "n5", "n6", "n7"]]
    assert looks.reads == 2


def test_a_read_ahead_answers_within_the_window_and_a_create_after_it_reads_again() -> None:
    """The window a read ahead leaves: their namesake made after the read of its name started is
    not seen by a create within LOOK_WINDOW_SECONDS of that start (as a per-create look does not
    see one made between its read and its Put), and is seen, and refused, after it."""
    from pacs_reconcile.resources._namesakes import LOOK_WINDOW_SECONDS

    world, clock = World(), Clock()
    looks = NamesakeLooks(world.read, batch_size=100, clock=clock)
    looks.expect(["a", "b", "c"])
    assert looks.look("a") is None  # reads a, b and c at 100.0
    world.existing.update(b="theirs", c="theirs")
    clock.now += LOOK_WINDOW_SECONDS
    assert looks.look("b") is None
    clock.now += 0.001
    assert looks.look("c") == "theirs"
    assert world.reads == [["a", "b", "c"], ["c"]]


def test_a_read_ahead_is_used_once() -> None:
    world = World()
    looks = NamesakeLooks(world.read, batch_size=100, clock=Clock())
    looks.expect(["a"])
    looks.look("x")
    world.existing["a"] = "theirs"
    assert looks.look("a") is None  # the read ahead, made before theirs
    assert looks.look("a") == "theirs"  # a second create of the name looks again
    assert world.reads == [["x", "a"], ["a"]]


def test_a_failed_read_ahead_fails_only_the_create_that_asked_and_the_others_read_again() -> None:
    world = World(failing=1)
    looks = NamesakeLooks(world.read, batch_size=100, clock=Clock())
    looks.expect(["a", "b"])
    with pytest.raises(Denied):
        looks.look("a")
    world.existing["b"] = "theirs"
    assert looks.look("b") == "theirs"  # a failed read is never "absent"
    assert world.reads == [["a", "b"], ["b"]]


def test_a_create_among_the_last_names_read_ahead_reads_its_own_and_the_next_ones() -> None:
    """When fewer than refill_below names read ahead are left, the next create reads again (its own
    name first, so its answer is as fresh as a per-create look's) while the others still have theirs:
    not every worker waiting for one read each time a read ahead runs out."""
    world = World()
    looks = NamesakeLooks(world.read, batch_size=4, clock=Clock(), refill_below=2)
    looks.expect(f"n{i}" for i in range(10))
    assert [looks.look(name) for name in ("n0", "n1")] == [None, None]
    world.existing["n2"] = "theirs"
    assert looks.look("n2") == "theirs"  # one name (n3) left ahead: n2 reads with the next ones
    assert looks.look("n3") is None  # still the first read's answer
    assert world.reads == [["n0", "n1", "n2", "n3"], ["n2", "n4", "n5", "n6"]]
