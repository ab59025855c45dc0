-- Protected resources (RFC 8707 resource indicators): the APIs a token may be asked for,
-- whose `aud` is then the resource's URL. Each name (by its comparison key, as consumers'
-- names) and each URL, as written, is listed once.
CREATE TABLE protected_resources (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
);
