"""Templates compiled once for the whole test run."""

from __future__ import annotations

import jinja2


class SharedBytecode(jinja2.BytecodeCache):
    """Compiled templates kept for the whole run. Every test builds its own app, and each new
    app would parse and compile every template again (a fifth of these tests' time). Jinja
    checks each entry against the template source's checksum, so an edited template is
    compiled afresh."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


COMPILED = SharedBytecode()
