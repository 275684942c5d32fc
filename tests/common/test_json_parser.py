"""The API's JSON parser counts nesting outside strings, and only refuses what nests too deep."""

from common.api.parsers import MAX_DEPTH, json_depth_exceeds


def test_brackets_inside_strings_do_not_count():
    assert not json_depth_exceeds(b'{"a": "[[[[[[[[[[[[\\"[[[[[[[[[["}', 2)


def test_nesting_up_to_the_limit_is_accepted():
    assert not json_depth_exceeds(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH, MAX_DEPTH)
    assert json_depth_exceeds(b"[" * (MAX_DEPTH + 1), MAX_DEPTH)
