"""EFS's UpdateFileSystem, missing from moto 5.2.5, filled in as the EFS API reference describes it.

UpdateFileSystem (PUT /2015-02-01/file-systems/{FileSystemId}) changes a file system's throughput
mode and provisioned throughput in place and answers 202 with the file system's description
(https://docs.aws.amazon.com/efs/latest/ug/API_UpdateFileSystem.html):
- ThroughputMode is optional; changing it to `provisioned` needs ProvisionedThroughputInMibps
  (BadRequest otherwise); ProvisionedThroughputInMibps applies only to provisioned throughput.
- An unknown file system is FileSystemNotFound (404).
Not emulated: the once-per-24-hours limit on decreases and mode changes (TooManyRequests) and
InsufficientThroughputCapacity, which depend on time and capacity.

moto routes a REST-JSON request to the EFSResponse method named after the operation, in-process
(mock_aws) and in server mode alike, so adding the method covers both.

CreateAccessPoint's ClientToken, "a string of up to 64 ASCII characters that Amazon EFS uses to
ensure idempotent creation" (EFS API reference, CreateAccessPoint; botocore fills it in once per
call, the same for its retries), is ignored by moto, which makes a second access point when a
call is retried after its response was lost. After install(), a token seen before is answered with
the access point it made, as EFS answers it.

Mount targets are made, listed and deleted one at a time: moto's MountTarget registers itself with
its file system before it has its zone, so in server mode (one thread per request) a
DescribeMountTargets running beside a CreateMountTarget of the same file system could answer a
mount target without AvailabilityZoneName, which EFS always returns (EFS API reference,
MountTargetDescription). Seen when an apply creates a file system's two mount targets at once.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

_MOUNT_TARGETS = threading.Lock()

_PATCHED_MARK = "_pacs_reconcile_patched"


def install() -> None:
    """Apply the patch once (idempotent)."""
    from moto.efs.models import EFSBackend
    from moto.efs.responses import EFSResponse

    if getattr(EFSBackend, _PATCHED_MARK, False):
        return
    EFSBackend.update_file_system = _update_file_system  # type: ignore[attr-defined]
    EFSResponse.update_file_system = _update_file_system_response  # type: ignore[attr-defined]
    EFSBackend.create_access_point = _honouring_client_token(EFSBackend.create_access_point)  # type: ignore[method-assign]
    for name in ("create_mount_target", "describe_mount_targets", "delete_mount_target"):
        setattr(EFSBackend, name, _one_at_a_time(getattr(EFSBackend, name)))
    setattr(EFSBackend, _PATCHED_MARK, True)


def _one_at_a_time(original: Any) -> Any:
    @functools.wraps(original)
    def serialized(*args: Any, **kwargs: Any) -> Any:
        with _MOUNT_TARGETS:
            return original(*args, **kwargs)

    return serialized


def _honouring_client_token(original: Any) -> Any:
    def create_access_point(self: Any, client_token: str, *args: Any, **kwargs: Any) -> Any:
        if client_token:
            made = [p for p in self.access_points.values() if p.client_token == client_token]
            if made:
                return made[0]
        return original(self, client_token, *args, **kwargs)

    return create_access_point


def _update_file_system(
    self: Any, file_system_id: str, throughput_mode: str | None, provisioned: float | None
) -> Any:
    from moto.efs.exceptions import BadRequest, FileSystemNotFound

    file_system = self.file_systems_by_id.get(file_system_id)
    if file_system is None:
        raise FileSystemNotFound(file_system_id)
    mode = throughput_mode or file_system.throughput_mode
    if mode == "provisioned" and provisioned is None and file_system.throughput_mode != "provisioned":
        raise BadRequest("ProvisionedThroughputInMibps is required when ThroughputMode is provisioned.")
    if mode != "provisioned" and provisioned is not None:
        raise BadRequest("ProvisionedThroughputInMibps applies only to the provisioned throughput mode.")
    file_system.throughput_mode = mode
    if mode != "provisioned":
        file_system.provisioned_throughput_in_mibps = None
    elif provisioned is not None:
        file_system.provisioned_throughput_in_mibps = provisioned
    return file_system


def _update_file_system_response(self: Any) -> tuple[str, dict[str, Any]]:
    file_system_id = self.path.rstrip("/").rsplit("/", 1)[-1]
    file_system = self.efs_backend.update_file_system(
        file_system_id,
        self._get_param("ThroughputMode"),
        self._get_param("ProvisionedThroughputInMibps"),
    )
    return json.dumps(file_system.info_json()), {"status": 202, "Content-Type": "application/json"}
