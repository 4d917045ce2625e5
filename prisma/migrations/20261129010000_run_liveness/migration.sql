-- AlterTable
ALTER TABLE "Run" ADD COLUMN     "executorId" TEXT,
ADD COLUMN     "heartbeatAt" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "Run_status_heartbeatAt_idx" ON "Run"("status", "heartbeatAt");
