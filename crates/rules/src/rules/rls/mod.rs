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

#[cfg(test)]
mod tests {
    use super::RULES;
    use crate::rules::test_support::run;
    use dbaudit_catalog::builder::CatalogBuilder;
    use dbaudit_catalog::{FkAction, PolicyCommand, RelationKind};

    /// A Drizzle/Prisma-style backend: no API roles, tenancy in application code. Only the rules
    /// that make sense without API roles may report anything.
    #[test]
    fn without_api_roles_only_role_independent_rules_report() {
        let cat = CatalogBuilder::new()
            .table("public.organizations", &["id uuid not null"])
            .pk("public.organizations", &["id"])
            .table(
                "public.orders",
                &["id uuid not null", "org_id uuid not null"],
            )
            .fk(
                "public.orders",
                &["org_id"],
                "public.organizations",
                &["id"],
                FkAction::Cascade,
            )
            .grant("public.orders", "PUBLIC", &["SELECT", "INSERT"])
            .rls("public.orders", true)
            .policy(
                "public.orders",
                "open",
                PolicyCommand::All,
                &[],
                Some("true"),
                Some("true"),
            )
            .policy(
                "public.orders",
                "meta",
                PolicyCommand::Select,
                &[],
                Some("(org_id = (((auth.jwt() -> 'user_metadata'::text) ->> 'org'::text))::uuid)"),
                None,
            )
            .table("public.drafts", &["id uuid not null"])
            .policy(
                "public.drafts",
                "p",
                PolicyCommand::Select,
                &[],
                Some("true"),
                None,
            )
            .view("public.order_view", &["id uuid"], &["public.orders"])
            .grant("public.order_view", "PUBLIC", &["SELECT"])
            .view("public.order_mv", &["id uuid"], &["public.orders"])
            .with(|c| c.relations.last_mut().unwrap().kind = RelationKind::MaterializedView)
            .grant("public.order_mv", "PUBLIC", &["SELECT"])
            .build();
        let mut codes: Vec<String> = RULES
            .iter()
            .flat_map(|r| run(*r, &cat))
            .map(|f| f.code)
            .collect();
        codes.sort();
        assert_eq!(
            codes,
            vec!["RLS003"],
            "policies on a table with RLS off still say so"
        );
    }
}
