"""botocore's service models for the whole process: one shared loader, each model parsed once.

Making a client loads its service's model files (the API, its endpoint rules, its paginators) and
botocore's own data (endpoints, partitions, retry and default settings); for the 19 clients of a
plan that was most of the CPU spent making them. What is done here keeps botocore's results and
only spends less to get them, and keeps each API model to the operations the tool calls
(aws_operations.OPERATIONS)."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import marshal
import os
import re
import sys
import threading
from typing import Any

import botocore
import botocore.loaders
from botocore.exceptions import DataNotFoundError

from .aws_operations import BOTOCORE_CALLS, OPERATIONS

SERVICE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
"""botocore's service names (its data folders): anything else goes botocore's own way."""


CACHE_OFF_VARIABLE = "PACS_RECONCILE_NO_MODEL_CACHE"
"""Set (to anything but empty) to parse botocore's JSON models on every run, neither reading nor
writing the model cache."""


def model_cache_directory() -> str | None:
    """Where parsed models are kept between runs: one folder per botocore version, Python (as
    Python keeps its bytecode per interpreter) and CACHE_FORMAT, under the user's cache folder
    (XDG_CACHE_HOME, or ~/.cache; the XDG Base Directory spec has a relative value ignored:
    https://specifications.freedesktop.org/basedir-spec/latest/). None when turned off
    (CACHE_OFF_VARIABLE) or when there is no home to put it in."""
    if os.environ.get(CACHE_OFF_VARIABLE):
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
        if not os.path.isabs(base):  # no HOME and no password entry: expanduser left "~"
            return None
    version = f"botocore-{botocore.__version__}-{sys.implementation.cache_tag}-{CACHE_FORMAT}"
    return os.path.join(base, "pacs-reconcile", "models", version)


CACHE_FORMAT = 2
"""What a cached model is, beyond its source: raised when the transformation of what is parsed
changes (kept_to_operations), so that no model made the old way is read back."""


API_MODEL = "service-2"
"""botocore's name for a service's API model (`<service>/<api version>/service-2.json`)."""


def kept_operations(service: str) -> frozenset[str] | None:
    """The operations a service's API model is kept to (aws_operations), or None: kept whole."""
    if service not in OPERATIONS:
        return None
    return OPERATIONS[service] | BOTOCORE_CALLS.get(service, frozenset())


def _kept_operations_of_file(file_path: str) -> tuple[str, ...] | None:
    """kept_operations (sorted) of the service whose API model the file is (botocore's layout:
    `<service>/<api version>/service-2`); None for any other file."""
    if os.path.basename(file_path) != API_MODEL:
        return None
    kept = kept_operations(os.path.basename(os.path.dirname(os.path.dirname(file_path))))
    return None if kept is None else tuple(sorted(kept))


def kept_to_operations(model: dict[str, Any], operations: frozenset[str]) -> dict[str, Any]:
    """An API model with only `operations` (those it has), the shapes they reach, every error shape
    (a client's `exceptions` are made from them all, and an error is parsed by its shape whichever
    call returned it), and no documentation (read only to write docstrings).

    Every call of a kept operation is made and parsed as with the whole model: botocore serializes a
    request from its input shape, parses a response by its output shape and an error by its error
    shape, and resolves endpoints from the service's metadata and rules, which are all kept."""
    shapes: dict[str, Any] = model["shapes"]
    kept_operations = {
        name: operation
        for name, operation in model["operations"].items()
        if name in operations or operation.get("endpointoperation")
    }
    reached: set[str] = set()
    to_visit = [name for name, shape in shapes.items() if shape.get("exception")]
    for operation in kept_operations.values():
        to_visit += [operation[part]["shape"] for part in ("input", "output") if part in operation]
        to_visit += [error["shape"] for error in operation.get("errors", ())]
    while to_visit:
        name = to_visit.pop()
        if name in reached:
            continue
        reached.add(name)
        shape = shapes[name]
        to_visit += [member["shape"] for member in shape.get("members", {}).values()]
        to_visit += [shape[part]["shape"] for part in ("member", "key", "value") if part in shape]
    return {
        **model,
        "operations": {name: _undocumented(operation) for name, operation in kept_operations.items()},
        "shapes": {name: _undocumented(shapes[name]) for name in shapes if name in reached},
    }


def _undocumented(node: Any, *, names: bool = False) -> Any:
    """`node` without its "documentation" fields; `names`: a mapping of member names, whose keys
    are names, not fields (a member may be called anything)."""
    if isinstance(node, dict):
        return {
            key: _undocumented(value, names=key == "members")
            for key, value in node.items()
            if names or key != "documentation"
        }
    if isinstance(node, list):
        return [_undocumented(value) for value in node]
    return node


CacheKey = tuple[str, int, int, tuple[str, ...] | None]
"""What a cached model was made from: its source file's path, size and modification time (ns), and
the operations it was kept to (None: whole)."""


class ModelFiles(botocore.loaders.JSONFileLoader):
    """botocore's JSON file loader, parsing into plain dicts and keeping what it parsed in a cache.

    Plain dicts: botocore parses its models into OrderedDicts (`json.loads(...,
    object_pairs_hook=OrderedDict)`), which took 1.8x as long for the 19 service models a plan
    loads (180 ms against 98 ms of CPU, best of 3). Plain dicts keep the file's order (Python
    3.7+), and botocore builds its own OrderedDicts from them where it wants them
    (botocore/model.py).

    The cache: decompressing and parsing the JSON still cost ~0.13 s of CPU a plan, 0.11 s of it the
    19 API models (ec2's alone, 3 MB, 26-40 ms); the same dicts read back in marshal's format
    (Python's own, that of its bytecode files) cost about half (0.06 s; ec2's a third). Each model's
    file in the cache records the source file's path, size and modification time (in nanoseconds) and
    the operations it was kept to, and its folder botocore's version and the Python that wrote it: a
    file that does not match to the last field is parsed from the JSON and written again. Files are
    written whole under a temporary name and renamed into place, so a reader sees a complete file or
    none. Anything that goes wrong with the cache (no home, a read-only or full disk, a damaged
    file, another Python's format) leaves the model parsed from its JSON as if there were no cache.

    An API model's file also keeps its operations' Python method names, computed once by
    botocore's own `xform_name` (a regular-expression rewrite botocore makes for each of the ~2,200
    operations of the 19 clients of a plan), and puts them in botocore's cache of them
    (`botocore._xform_cache`, pinned by tests/test_aws_model_cache.py) when read back."""

    def __init__(self, cache_directory: str | None = None, *, whole: bool = False) -> None:
        self.cache_directory = cache_directory
        self.whole = whole
        """Every API model whole, not kept to the tool's operations (aws_operations)."""

    def load_file(self, file_path: str) -> Any:
        kept = None if self.whole else _kept_operations_of_file(file_path)
        for extension in (".json", ".json.gz"):  # botocore's order
            source = file_path + extension
            if not os.path.isfile(source):
                continue
            with open(source, "rb") as file:
                status = os.fstat(file.fileno())
                key = (source, status.st_size, status.st_mtime_ns, kept)
                cached = self._read_cache(key)
                if cached is not None:
                    return cached
                data = file.read()
            model = json.loads(gzip.decompress(data) if extension == ".json.gz" else data)
            if kept is not None:
                model = kept_to_operations(model, frozenset(kept))
            self._write_cache(key, model)
            return model
        return None

    def _cache_file(self, key: CacheKey) -> str | None:
        """One file per source, and another for its model kept to operations."""
        if self.cache_directory is None:
            return None
        source = key[0] if key[3] is None else key[0] + "\0kept"
        name = hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()[:32]
        return os.path.join(self.cache_directory, name + ".marshal")

    def _read_cache(self, key: CacheKey) -> Any:
        path = self._cache_file(key)
        if path is None:
            return None
        try:
            with open(path, "rb") as file:
                kept_key, model, method_names = marshal.loads(file.read())
        except (OSError, EOFError, ValueError, TypeError):  # absent, unreadable, damaged, foreign
            return None
        if kept_key != key:
            return None
        botocore._xform_cache.update(((operation, "_"), name) for operation, name in method_names)  # type: ignore[attr-defined]
        return model

    def _write_cache(self, key: CacheKey, model: Any) -> None:
        path = self._cache_file(key)
        if path is None:
            return
        import tempfile

        operations = model.get("operations") if isinstance(model, dict) else None
        method_names = [(name, botocore.xform_name(name)) for name in operations or ()]
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(marshal.dumps((key, model, method_names)))
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except (OSError, ValueError):  # no cache this time: read-only, full, not a folder, ...
            return


class SharedLoader(botocore.loaders.Loader):
    """botocore's loader, minus its survey of every service on disk for each kind of model.

    botocore's `load_service_model` first lists every service that has a model of the kind asked
    for (`list_available_services`: a directory listing and two file checks for each of some 450
    services in each search path, ~10 ms of CPU) only to check that the one asked for is among
    them; a plan asks for three kinds (the API, its endpoint rules, its paginators), and clients
    made side by side each made that survey before its cache was filled (14 surveys in a plan). A
    service is in that list exactly when it has an API version with a model of the kind
    (`list_api_versions`, which looks in that service's own folder), so this loader asks that
    instead, and leaves a service with none to botocore's own method, which raises its
    UnknownServiceError naming the known ones. The steps after the check are botocore's
    (botocore/loaders.py, pinned by tests/test_aws_clients.py)."""

    @botocore.loaders.instance_cache
    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        if not SERVICE_NAME.fullmatch(service_name):
            return super().load_service_model(service_name, type_name, api_version)
        try:
            latest = self.determine_latest_version(service_name, type_name)
        except DataNotFoundError:
            return super().load_service_model(service_name, type_name, api_version)
        if api_version is None:
            api_version = latest
        model = self.load_data(os.path.join(service_name, api_version, type_name))
        extras = list(self._find_extras(service_name, type_name, api_version))  # type: ignore[attr-defined]
        self._extras_processor.process(model, extras)  # type: ignore[attr-defined]
        kept = kept_operations(service_name) if type_name == API_MODEL and not self.whole else None
        if kept is not None and extras:
            # an extras file adds members to the shapes it names, kept or not: a shape of an
            # operation left out would be left behind in part
            model = kept_to_operations(model, kept)
        return model

    @property
    def whole(self) -> bool:
        """Every API model whole (ModelFiles.whole)."""
        return isinstance(self.file_loader, ModelFiles) and self.file_loader.whole


_LOCK = threading.Lock()
_shared: dict[bool, SharedLoader] = {}


def shared_loader(data_path: str | None, *, whole: bool = False) -> SharedLoader:
    """The process's one model loader (the first caller's `data_path`, botocore's AWS_DATA_PATH
    setting): each model is parsed once per process, not once per context (a run over several
    environments, or a test suite, makes many contexts). `whole`: the one that keeps every API model
    whole, for a call the tool's operations do not include (AwsContext)."""
    with _LOCK:
        if whole not in _shared:
            # botocore's create_loader, with this class
            paths = [] if data_path is None else data_path.split(os.pathsep)
            extra = [os.path.expanduser(os.path.expandvars(path)) for path in paths]
            files = ModelFiles(model_cache_directory(), whole=whole)
            loader = SharedLoader(extra_search_paths=extra, file_loader=files)
            _shared[whole] = loader
        return _shared[whole]
