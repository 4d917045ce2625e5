-- Runs are queued in the database: any instance claims the next run of an agent and needs the
-- run's input to execute it.
-- AlterTable
ALTER TABLE "Run" ADD COLUMN     "input" JSONB;

-- CreateIndex
CREATE INDEX "Run_status_createdAt_id_idx" ON "Run"("status", "createdAt", "id");
