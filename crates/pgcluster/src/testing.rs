//! Test support: one cluster per test binary, a database per test. (Being written.)
