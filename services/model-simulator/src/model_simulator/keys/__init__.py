"""The credentials a request comes with: checked, and remembered by fingerprint for tests."""

from model_simulator.keys.check import KeyCheck
from model_simulator.keys.record import RequestRecord, RequestRecords
from model_simulator.keys.rules import KeyRules, fingerprint

__all__ = ["KeyCheck", "KeyRules", "RequestRecord", "RequestRecords", "fingerprint"]
