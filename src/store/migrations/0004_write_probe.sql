-- Readiness after a storage fault writes here (and takes it back) to learn whether the
-- database takes writes again; the filler makes the probe need fresh pages, as real writes do.
CREATE TABLE write_probe (
    id INTEGER PRIMARY KEY,
    filler BLOB NOT NULL
);
