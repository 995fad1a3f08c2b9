"""Resources a stack reads but does not create, made in the emulator by a test that needs one more
than the seeded infrastructure has."""

from __future__ import annotations

from typing import Any


def create_postgres(rds: Any, identifier: str) -> None:
    """A PostgreSQL instance (alarms watch it by DBInstanceIdentifier; its log group carries its name)."""
    rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="pacs",
        MasterUserPassword="not-a-real-one-1234",
    )
