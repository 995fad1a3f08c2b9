"""botocore's service models for the whole process: one shared loader, each model parsed once.

Making a client loads its service's model files (the API, its endpoint rules, its paginators) and
botocore's own data (endpoints, partitions, retry and default settings); for the 19 clients of a
plan that was most of the CPU spent making them. What is done here keeps botocore's results and
only spends less to get them."""

from __future__ import annotations

import gzip
import json
import os
import re
import threading
from typing import Any

import botocore.loaders
from botocore.exceptions import DataNotFoundError

SERVICE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
"""botocore's service names (its data folders): anything else goes botocore's own way."""


class ModelFiles(botocore.loaders.JSONFileLoader):
    """botocore's JSON file loader, parsing into plain dicts: botocore parses its models into
    OrderedDicts (`json.loads(..., object_pairs_hook=OrderedDict)`), which took 1.8x as long for
    the 19 service models a plan loads (180 ms against 98 ms of CPU, best of 3). Plain dicts keep
    the file's order (Python 3.7+), and botocore builds its own OrderedDicts from them where it
    wants them (botocore/model.py)."""

    def load_file(self, file_path: str) -> Any:
        for extension, opener in ((".json", open), (".json.gz", gzip.open)):  # botocore's order
            if os.path.isfile(file_path + extension):
                with opener(file_path + extension, "rb") as file:
                    return json.loads(file.read())
        return None


class _SearchPaths(list[str]):
    """The shared loader's search path: every boto3.Session appends boto3's data folder to its
    loader's list, so with one loader per process the list would grow by one per context."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


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
        extras = self._find_extras(service_name, type_name, api_version)  # type: ignore[attr-defined]
        self._extras_processor.process(model, extras)  # type: ignore[attr-defined]
        return model


_LOCK = threading.Lock()
_shared: SharedLoader | None = None


def shared_loader(data_path: str | None) -> SharedLoader:
    """The process's one model loader (the first caller's `data_path`, botocore's AWS_DATA_PATH
    setting): each model is parsed once per process, not once per context (a run over several
    environments, or a test suite, makes many contexts)."""
    global _shared
    with _LOCK:
        if _shared is None:
            # botocore's create_loader, with this class
            paths = [] if data_path is None else data_path.split(os.pathsep)
            extra = [os.path.expanduser(os.path.expandvars(path)) for path in paths]
            loader = SharedLoader(extra_search_paths=extra, file_loader=ModelFiles())
            loader._search_paths = _SearchPaths(loader.search_paths)  # type: ignore[attr-defined]
            _shared = loader
        return _shared
