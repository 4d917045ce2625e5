-- A stamp of the agent's context window, so that an instance may keep a context in memory
-- between runs and know, in the run's first statement, whether it is still the context:
-- it changes whenever the window (Agent."messageIds") or a message's prompt fields change,
-- whoever writes them.
ALTER TABLE "Agent" ADD COLUMN "contextVersion" INTEGER NOT NULL DEFAULT 0;

CREATE FUNCTION agent_context_window_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW."contextVersion" := OLD."contextVersion" + 1;
  RETURN NEW;
END $$;

CREATE TRIGGER "Agent_contextVersion_window"
  BEFORE UPDATE OF "messageIds" ON "Agent"
  FOR EACH ROW WHEN (OLD."messageIds" IS DISTINCT FROM NEW."messageIds")
  EXECUTE FUNCTION agent_context_window_changed();

-- Any update of messages (their agent's context may show them) or their deletion: one bump per
-- agent and statement.
CREATE FUNCTION agent_context_messages_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "Agent" SET "contextVersion" = "contextVersion" + 1
   WHERE id IN (SELECT "agentId" FROM changed_old UNION SELECT "agentId" FROM changed_new);
  RETURN NULL;
END $$;

CREATE FUNCTION agent_context_messages_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "Agent" SET "contextVersion" = "contextVersion" + 1
   WHERE id IN (SELECT "agentId" FROM changed_old);
  RETURN NULL;
END $$;

CREATE TRIGGER "Message_contextVersion_update"
  AFTER UPDATE ON "Message" REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
  FOR EACH STATEMENT EXECUTE FUNCTION agent_context_messages_updated();

CREATE TRIGGER "Message_contextVersion_delete"
  AFTER DELETE ON "Message" REFERENCING OLD TABLE AS changed_old
  FOR EACH STATEMENT EXECUTE FUNCTION agent_context_messages_deleted();
