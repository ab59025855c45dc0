//! SQLite side of [`ChangeStore`]: one server owns the database, so nobody else changes it.

use super::*;
use crate::store::{ChangeFeed, ChangeStore};

#[async_trait]
impl ChangeStore for SqliteStore {
    async fn follow_changes(&self) -> Option<ChangeFeed> {
        None
    }
}
