import hashlib

from qatt.intake.fingerprint import fingerprint_references


def test_fingerprint_is_order_independent_and_matches_sort_then_sha256sum():
    refs = ["CR/2024/0003", " CR/2024/0001", "CR/2024/0002 "]
    expected = hashlib.sha256(b"CR/2024/0001\nCR/2024/0002\nCR/2024/0003\n").hexdigest()
    assert fingerprint_references(refs) == expected
    assert fingerprint_references(reversed(refs)) == expected


def test_fingerprint_changes_when_a_case_is_added():
    assert fingerprint_references(["A", "B"]) != fingerprint_references(["A", "B", "C"])
