-- Every committed change of a routed or listed object is announced on the
-- channel berth_changes as "<table> <op> <id>" (op: insert, update,
-- delete). PostgreSQL delivers notifications only when the transaction
-- commits, and cascaded deletes fire these triggers too, so whatever front
-- door or job wrote the change, core/changefeed's subscribers (routing
-- first) hear of it exactly after commit and never of a rolled-back one.
CREATE FUNCTION berth_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_id uuid;
BEGIN
    IF TG_OP = 'DELETE' THEN
        row_id := OLD.id;
    ELSE
        row_id := NEW.id;
    END IF;
    PERFORM pg_notify('berth_changes', TG_TABLE_NAME || ' ' || lower(TG_OP) || ' ' || row_id::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER projects_announce AFTER INSERT OR UPDATE OR DELETE ON projects
    FOR EACH ROW EXECUTE FUNCTION berth_announce_change();
CREATE TRIGGER environments_announce AFTER INSERT OR UPDATE OR DELETE ON environments
    FOR EACH ROW EXECUTE FUNCTION berth_announce_change();
CREATE TRIGGER applications_announce AFTER INSERT OR UPDATE OR DELETE ON applications
    FOR EACH ROW EXECUTE FUNCTION berth_announce_change();
CREATE TRIGGER domains_announce AFTER INSERT OR UPDATE OR DELETE ON domains
    FOR EACH ROW EXECUTE FUNCTION berth_announce_change();
CREATE TRIGGER databases_announce AFTER INSERT OR UPDATE OR DELETE ON databases
    FOR EACH ROW EXECUTE FUNCTION berth_announce_change();
