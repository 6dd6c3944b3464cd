"""The test harness: a SeaweedFS runner, a fault proxy and a protocol driver."""
