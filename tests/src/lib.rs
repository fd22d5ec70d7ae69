//! Shared helpers for the conformance and interop tests in `tests/tests/`.
