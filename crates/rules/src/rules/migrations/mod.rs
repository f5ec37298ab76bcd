pub mod migration_error;
