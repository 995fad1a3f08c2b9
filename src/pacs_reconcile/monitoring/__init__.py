"""Offline checks of the monitoring itself: filter patterns, metric filters and alarms run against
sample log lines and datapoint series, without AWS."""
