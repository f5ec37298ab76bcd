pub mod missing_primary_key;
