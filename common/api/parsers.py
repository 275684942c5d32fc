"""The API's JSON parser, with a nesting limit. Python's json module parses recursively, so a
body of a few thousand `[` exhausts the stack (RecursionError, a 500) before any view or
permission runs, even on the unauthenticated token endpoint. No request of this API nests
deeper than a handful of levels; deeper bodies are refused as malformed (400, `parse_error`)."""

import io
import re

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32

# Strings may hold brackets; they are skipped whole (escaped quotes included). Outside strings
# only the brackets matter for the depth. All of these are ASCII, so UTF-8 bytes are scanned
# as they are, without decoding.
_STRING = rb'"(?:[^"\\]|\\.)*"'
_TOKENS = re.compile(rb"%s|[\[\]{}]" % _STRING, re.DOTALL)


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    depth = 0
    for token in _TOKENS.finditer(body):
        char = token.group()[:1]
        if char in b"[{":
            depth += 1
            if depth > limit:
                return True
        elif char in b"]}":
            depth -= 1
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read()
        if json_depth_exceeds(body, MAX_DEPTH):
            raise ParseError(f"JSON parse error - the body nests deeper than {MAX_DEPTH} levels.")
        return super().parse(io.BytesIO(body), media_type, parser_context)
