//! Which unique key a duplicate hit, told apart the same way on both databases: by the
//! constraint, which PostgreSQL names and SQLite describes by its `table.column` (or its
//! index's name), in one table. See the migrations of each.

/// `(PostgreSQL constraint, SQLite's description, the key the caller is told)`.
const KEYS: &[(&str, &str, &str)] = &[
    (
        "consumers_client_id_key",
        "consumers.client_id",
        "client_id",
    ),
    ("users_username_key_key", "users.username_key", "username"),
    ("users_one_super_admin", "users.role", "super_admin"),
    ("account_pkey", "account.id", "account"),
    (
        "ssh_keys_fingerprint_key",
        "ssh_keys.fingerprint",
        "fingerprint",
    ),
    (
        "protected_resources_url_key",
        "protected_resources.url",
        "url",
    ),
];

/// The key of any other unique constraint: the name keys of groups, consumers and resources.
const OTHER: &str = "name";

/// The key of a PostgreSQL constraint.
pub(crate) fn by_constraint(constraint: Option<&str>) -> &'static str {
    KEYS.iter()
        .find(|(name, _, _)| Some(*name) == constraint)
        .map_or(OTHER, |(_, _, key)| key)
}

/// The key of a SQLite unique violation, from its message: `UNIQUE constraint failed:
/// users.role` for a column, `… failed: index 'users_one_super_admin'` for an index.
pub(crate) fn by_sqlite_message(message: &str) -> &'static str {
    let what = message
        .strip_prefix("UNIQUE constraint failed: ")
        .unwrap_or(message);
    let index = what
        .strip_prefix("index '")
        .and_then(|rest| rest.strip_suffix('\''));
    KEYS.iter()
        .find(|(name, columns, _)| Some(*name) == index || *columns == what)
        .map_or(OTHER, |(_, _, key)| key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_databases_name_the_same_key() {
        for (constraint, columns, key) in KEYS {
            assert_eq!(by_constraint(Some(constraint)), *key);
            assert_eq!(
                by_sqlite_message(&format!("UNIQUE constraint failed: {columns}")),
                *key
            );
            assert_eq!(
                by_sqlite_message(&format!("UNIQUE constraint failed: index '{constraint}'")),
                *key
            );
        }
        assert_eq!(by_constraint(Some("consumers_name_key_key")), "name");
        assert_eq!(
            by_sqlite_message("UNIQUE constraint failed: consumers.name_key"),
            "name"
        );
    }
}
