//! Row-level security rules (RLS).

pub(crate) mod common;

pub mod auth_users_exposed;
pub mod function_search_path_mutable;
pub mod inconsistent_tenant_claim;
pub mod materialized_view_in_api;
pub mod multiple_permissive_policies;
pub mod permissive_policy;
pub mod policy_exists_rls_disabled;
pub mod policy_null_auth_disjunct;
pub mod policy_uses_user_metadata;
pub mod redundant_policy;
pub mod rls_auth_initplan;
pub mod rls_disabled;
pub mod rls_enabled_no_policy;
pub mod security_definer_function_exposed;
pub mod tenant_policy_missing_tenant_check;
pub mod view_bypasses_rls;

use crate::Rule;

pub static RULES: &[&dyn Rule] = &[
    &rls_disabled::RlsDisabled,
    &rls_enabled_no_policy::RlsEnabledNoPolicy,
    &policy_exists_rls_disabled::PolicyExistsRlsDisabled,
    &permissive_policy::PermissivePolicy,
    &redundant_policy::RedundantPolicy,
    &tenant_policy_missing_tenant_check::TenantPolicyMissingTenantCheck,
    &inconsistent_tenant_claim::InconsistentTenantClaim,
    &policy_uses_user_metadata::PolicyUsesUserMetadata,
    &rls_auth_initplan::RlsAuthInitplan,
    &multiple_permissive_policies::MultiplePermissivePolicies,
    &view_bypasses_rls::ViewBypassesRls,
    &security_definer_function_exposed::SecurityDefinerFunctionExposed,
    &function_search_path_mutable::FunctionSearchPathMutable,
    &auth_users_exposed::AuthUsersExposed,
    &policy_null_auth_disjunct::PolicyNullAuthDisjunct,
    &materialized_view_in_api::MaterializedViewInApi,
];
