-- Protected resources (RFC 8707 resource indicators): the APIs a token may be asked for,
-- whose `aud` is then the resource's URL. Each name (by its comparison key, as consumers'
-- names) and each URL, as written, is listed once.
CREATE TABLE protected_resources (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL CONSTRAINT protected_resources_name_key_key UNIQUE,
    url TEXT NOT NULL CONSTRAINT protected_resources_url_key UNIQUE,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);

-- Every replica keeps the list in memory for the token endpoint (see 0005): a resource
-- added or removed anywhere is read again everywhere.
CREATE FUNCTION notify_resource_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('consola_changes', json_build_object('resource', OLD.id)::text);
    ELSE
        PERFORM pg_notify('consola_changes', json_build_object('resource', NEW.id)::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER protected_resources_notify AFTER INSERT OR UPDATE OR DELETE ON protected_resources
    FOR EACH ROW EXECUTE FUNCTION notify_resource_change();
