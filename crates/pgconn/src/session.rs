//! The audit's transaction: one consistent snapshot, no writes, bounded waits.

use std::time::Duration;

use tokio_postgres::Client;

use crate::error::SessionError;

/// Start the transaction the audit runs in:
///
/// ```sql
/// BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY;
/// SET LOCAL statement_timeout = ...;
/// SET LOCAL lock_timeout = ...;
/// SET LOCAL idle_in_transaction_session_timeout = ...;
/// ```
///
/// REPEATABLE READ gives every catalog query the same snapshot; READ ONLY makes the server
/// reject any write (SQLSTATE 25006). `Duration::ZERO` disables a timeout (PostgreSQL's `0`).
/// The idle-in-transaction timeout is the statement timeout but at least a minute (ten minutes
/// when the statement timeout is disabled), so a client that hangs or dies does not pin the
/// snapshot on the server for long. The transaction stays open until the caller commits, rolls
/// back or drops the client. On failure the transaction is rolled back.
pub async fn begin_audit_session(
    client: &Client,
    statement_timeout: Duration,
    lock_timeout: Duration,
) -> Result<(), SessionError> {
    let idle = if statement_timeout.is_zero() {
        Duration::from_secs(600)
    } else {
        statement_timeout.max(Duration::from_secs(60))
    };
    let steps = [
        (
            "BEGIN",
            "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY".to_string(),
        ),
        (
            "statement_timeout",
            format!(
                "SET LOCAL statement_timeout = {}",
                millis(statement_timeout)
            ),
        ),
        (
            "lock_timeout",
            format!("SET LOCAL lock_timeout = {}", millis(lock_timeout)),
        ),
        (
            "idle_in_transaction_session_timeout",
            format!(
                "SET LOCAL idle_in_transaction_session_timeout = {}",
                millis(idle)
            ),
        ),
    ];
    for (step, sql) in &steps {
        if let Err(e) = client.batch_execute(sql).await {
            let (code, message) = match e.as_db_error() {
                Some(db) => (db.code().code().to_string(), db.message().to_string()),
                None => (String::new(), e.to_string()),
            };
            // Leave the connection idle, not in an aborted transaction.
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(SessionError::Setup {
                step: (*step).to_string(),
                code,
                message,
            });
        }
    }
    // BEGIN inside an open transaction is only a warning: make sure the settings took.
    let check = client
        .query_one(
            "SELECT pg_catalog.current_setting('transaction_read_only'), \
             pg_catalog.current_setting('transaction_isolation')",
            &[],
        )
        .await;
    let fail = |code: String, message: String| SessionError::Setup {
        step: "check".to_string(),
        code,
        message,
    };
    match check {
        Ok(row) => {
            let read_only: String = row.try_get(0).unwrap_or_default();
            let isolation: String = row.try_get(1).unwrap_or_default();
            if read_only != "on" || isolation != "repeatable read" {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(fail(
                    String::new(),
                    format!(
                        "the transaction is {isolation}, read_only={read_only} (was a \
                         transaction already open on this connection?)"
                    ),
                ));
            }
            Ok(())
        }
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK").await;
            Err(match e.as_db_error() {
                Some(db) => fail(db.code().code().to_string(), db.message().to_string()),
                None => fail(String::new(), e.to_string()),
            })
        }
    }
}

/// Milliseconds for a PostgreSQL timeout setting: at most `i32::MAX`, and a non-zero duration
/// below a millisecond becomes 1 (0 would disable the timeout).
fn millis(d: Duration) -> u128 {
    match d.as_millis() {
        0 if !d.is_zero() => 1,
        ms => ms.min(i32::MAX as u128),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_bounds() {
        assert_eq!(millis(Duration::ZERO), 0);
        assert_eq!(millis(Duration::from_micros(10)), 1);
        assert_eq!(millis(Duration::from_secs(5)), 5000);
        assert_eq!(millis(Duration::from_secs(u64::MAX)), i32::MAX as u128);
    }
}
