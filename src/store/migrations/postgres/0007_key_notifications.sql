-- A signing-key rotation on one replica signs and verifies on every replica at once: the
-- change feed (see 0005) tells them that a sealed key was written, and each reads it again
-- (only the signing keys change while serving; the others are made once).

CREATE FUNCTION notify_sealed_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('consola_changes', json_build_object('sealed_key', NEW.name)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER sealed_keys_notify AFTER INSERT OR UPDATE ON sealed_keys
    FOR EACH ROW EXECUTE FUNCTION notify_sealed_key();
