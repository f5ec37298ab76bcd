pub mod rls_disabled;
