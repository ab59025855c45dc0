-- A block set on one replica is in force on every replica at once: the change feed (see
-- 0005) carries each new or longer block of the shared throttles, and every replica copies
-- it into memory, where the token endpoint checks it without reading the database. A
-- block is always set by an UPDATE of `blocked_until` (see store::throttles); the failures
-- counted below the limit and the deletes (a success, pruning) need no notification.

CREATE FUNCTION notify_throttle_block() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('consola_changes',
        json_build_object('throttle', encode(NEW.key, 'hex'),
                          'blocked_until', NEW.blocked_until)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER throttles_notify AFTER UPDATE OF blocked_until ON throttles FOR EACH ROW
    WHEN (NEW.blocked_until IS NOT NULL AND NEW.blocked_until IS DISTINCT FROM OLD.blocked_until)
    EXECUTE FUNCTION notify_throttle_block();
