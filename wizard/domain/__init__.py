"""Pure rules of the EPCS token domain: no Flask, no SQL."""
