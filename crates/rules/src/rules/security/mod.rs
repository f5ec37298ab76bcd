//! Security rules (SEC).

pub mod anon_write_grant;
pub mod auth_users_link_missing;
pub mod extension_in_public;
pub mod foreign_table_in_api;
pub mod plaintext_secret_column;
pub mod public_bucket_allows_listing;

use crate::Rule;

pub static RULES: &[&dyn Rule] = &[
    &plaintext_secret_column::PlaintextSecretColumn,
    &auth_users_link_missing::AuthUsersLinkMissing,
    &anon_write_grant::AnonWriteGrant,
    &extension_in_public::ExtensionInPublic,
    &public_bucket_allows_listing::PublicBucketAllowsListing,
    &foreign_table_in_api::ForeignTableInApi,
];
