pub mod unindexed_foreign_key;
