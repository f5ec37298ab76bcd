//! The CODE rules: one file each, with its metadata, docs, check and tests.

pub mod code001_query_missing_tenant_filter;
pub mod code002_service_key_fallback;
pub mod code003_route_missing_auth;
pub mod code004_webhook_unverified;
pub mod code005_unknown_column_reference;
pub mod code006_tenant_id_from_request;
pub mod code007_duplicate_db_client;
pub mod code008_multi_write_without_transaction;
pub mod code009_orm_foreign_key_mismatch;
pub mod code010_type_check_suppressed;

/// Every code rule, in code order.
pub static RULES: &[&dbaudit_findings::RuleMeta] = &[
    &code001_query_missing_tenant_filter::META,
    &code002_service_key_fallback::META,
    &code003_route_missing_auth::META,
    &code004_webhook_unverified::META,
    &code005_unknown_column_reference::META,
    &code006_tenant_id_from_request::META,
    &code007_duplicate_db_client::META,
    &code008_multi_write_without_transaction::META,
    &code009_orm_foreign_key_mismatch::META,
    &code010_type_check_suppressed::META,
];
