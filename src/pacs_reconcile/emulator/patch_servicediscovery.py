"""Cloud Map private DNS namespaces as AWS keeps them, where moto 5.2.5 does not.

- A private DNS namespace is a private hosted zone associated with its VPC (Route 53 GetHostedZone
  lists the VPC); moto creates the zone without the VPC.
- A VPC holds several namespaces of different names (a second one of the same name is
  ConflictingDomainExists); moto refuses any second namespace in a VPC, so two environments of one
  account (dev, prod) could not share it.
- ListServices honours its NAMESPACE_ID filter (moto lists every service of the account; a
  service summary does not name its namespace, so the filter is the only way to tell).
- A create repeated with the CreatorRequestId of one that succeeded (a retry after a lost
  response) is NamespaceAlreadyExists / ServiceAlreadyExists naming the first one's id and
  request id (the errors' NamespaceId, ServiceId and CreatorRequestId fields); a second service of
  one name in a namespace is ServiceAlreadyExists too. moto makes a second one.
- DeleteNamespace refuses a namespace that still has services (ResourceInUse: "The specified
  resource can't be deleted because it contains other resources", Cloud Map API reference,
  DeleteNamespace); moto deletes it and leaves its services behind.

Works in-process and in server mode (the patch is on moto's backend class).
"""

from __future__ import annotations

import json
from typing import Any

_PATCHED_MARK = "_pacs_reconcile_patched"


def install() -> None:
    """Apply the patch once (idempotent)."""
    from moto.servicediscovery.models import ServiceDiscoveryBackend
    from moto.servicediscovery.responses import ServiceDiscoveryResponse

    if getattr(ServiceDiscoveryBackend, _PATCHED_MARK, False):
        return
    ServiceDiscoveryBackend.create_private_dns_namespace = _create_private_dns_namespace  # type: ignore[method-assign]
    original_delete = ServiceDiscoveryBackend.delete_namespace

    def delete_namespace(self: Any, namespace_id: str) -> str:
        from moto.core.exceptions import JsonRESTError

        if any(s.namespace_id == namespace_id for s in self.services.values()):
            raise JsonRESTError("ResourceInUse", f"namespace {namespace_id} still has services")
        return original_delete(self, namespace_id)

    ServiceDiscoveryBackend.delete_namespace = delete_namespace  # type: ignore[method-assign]
    ServiceDiscoveryResponse.list_services = _list_services  # type: ignore[method-assign]
    original_create_service = ServiceDiscoveryBackend.create_service

    def create_service(
        self: Any, name: str, namespace_id: str, creator_request_id: str, **kwargs: Any
    ) -> Any:
        for service in self.services.values():
            if service.namespace_id == namespace_id and service.name == name:
                raise _already_exists(
                    "ServiceAlreadyExists", ServiceId=service.id, CreatorRequestId=service.creator_request_id
                )
        return original_create_service(
            self, name=name, namespace_id=namespace_id, creator_request_id=creator_request_id, **kwargs
        )

    ServiceDiscoveryBackend.create_service = create_service  # type: ignore[method-assign,assignment]
    setattr(ServiceDiscoveryBackend, _PATCHED_MARK, True)


def _list_services(self: Any) -> str:
    params = json.loads(self.body or "{}")
    namespaces = {
        value
        for f in params.get("Filters") or []
        if f.get("Name") == "NAMESPACE_ID"
        for value in f.get("Values", [])
    }
    services = [
        s
        for s in self.servicediscovery_backend.list_services()
        if not namespaces or s.namespace_id in namespaces
    ]
    return json.dumps({"Services": [s.to_json() for s in services]})


def _create_private_dns_namespace(
    self: Any,
    name: str,
    creator_request_id: str,
    description: str,
    vpc: str,
    tags: list[dict[str, str]],
    properties: dict[str, Any],
) -> str:
    from moto.route53.models import route53_backends
    from moto.servicediscovery.exceptions import ConflictingDomainExists
    from moto.servicediscovery.models import Namespace
    from moto.utilities.utils import get_partition

    for existing in self.namespaces.values():
        if creator_request_id and existing.creator_request_id == creator_request_id:
            raise _already_exists(
                "NamespaceAlreadyExists", NamespaceId=existing.id, CreatorRequestId=creator_request_id
            )
    if any(n.vpc == vpc and n.name == name for n in self.namespaces.values()):
        raise ConflictingDomainExists(vpc)
    dns_properties = dict((properties or {}).get("DnsProperties", {}))
    zone = route53_backends[self.account_id][get_partition(self.region_name)].create_hosted_zone(
        f"{name}-{vpc}",  # moto refuses two zones of one name; AWS's private zones may share it
        private_zone=True,
        vpcid=vpc,
        vpcregion=self.region_name,
        comment=f"hosted zone for private dns namespace {name}",
    )
    dns_properties["HostedZoneId"] = zone.id
    namespace = Namespace(
        account_id=self.account_id,
        region=self.region_name,
        name=name,
        ns_type="DNS_PRIVATE",
        creator_request_id=creator_request_id,
        description=description,
        dns_properties=dns_properties,
        http_properties={},
        vpc=vpc,
    )
    self.namespaces[namespace.id] = namespace
    if tags:
        self.tagger.tag_resource(namespace.arn, tags)
    return str(self._create_operation("CREATE_NAMESPACE", targets={"NAMESPACE": namespace.id}))


def _already_exists(error_type: str, **fields: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    error = JsonRESTError(error_type, f"{error_type}: {fields}")
    error.description = json.dumps({"__type": error_type, "message": error.message, **fields})
    return error
