//! Performance rules (PERF).

pub mod duplicate_index;
pub mod index_shape;
pub mod invalid_index;
pub mod redundant_index;
pub mod sequence_near_overflow;
pub mod tenant_column_unindexed;
pub mod unindexed_foreign_key;
pub mod unused_index;

use crate::Rule;

pub static RULES: &[&dyn Rule] = &[
    &unindexed_foreign_key::UnindexedForeignKey,
    &tenant_column_unindexed::TenantColumnUnindexed,
    &duplicate_index::DuplicateIndex,
    &redundant_index::RedundantIndex,
    &unused_index::UnusedIndex,
    &invalid_index::InvalidIndex,
    &sequence_near_overflow::SequenceNearOverflow,
];
