-- Every replica keeps the token endpoint's caches in memory: consumers' credentials and
-- state, their groups' scopes, and the revocations. These triggers tell every replica
-- (LISTEN consola_changes) what changed. NOTIFY inside the writing transaction is sent
-- when it commits and never when it rolls back, so a replica hears of a change exactly
-- when the database holds it. The payload is JSON, far below NOTIFY's 8000 bytes.

CREATE FUNCTION notify_consumer_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('consola_changes',
            json_build_object('consumer', OLD.client_id, 'deleted', true)::text);
    ELSE
        PERFORM pg_notify('consola_changes',
            json_build_object('consumer', NEW.client_id, 'enabled', NEW.enabled,
                              'tokens_not_before', NEW.tokens_not_before,
                              'version', NEW.version)::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER consumers_notify AFTER INSERT OR UPDATE OR DELETE ON consumers
    FOR EACH ROW EXECUTE FUNCTION notify_consumer_change();

CREATE FUNCTION notify_group_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('consola_changes', json_build_object('group', OLD.id)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER permission_groups_notify AFTER UPDATE OR DELETE ON permission_groups
    FOR EACH ROW EXECUTE FUNCTION notify_group_change();

CREATE FUNCTION notify_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('consola_changes',
        json_build_object('revocation', NEW.kind, 'id', NEW.id, 'client_id', NEW.client_id,
                          'at', NEW.at, 'expires_at', NEW.expires_at)::text);
    RETURN NULL;
END $$;

CREATE TRIGGER revocations_notify AFTER INSERT OR UPDATE ON revocations
    FOR EACH ROW EXECUTE FUNCTION notify_revocation();
