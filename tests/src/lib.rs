//! End-to-end tests of Mirador as users run it: the `mirador` binary on real and generated
//! files (see `tests/tests/`). The library itself is empty.
