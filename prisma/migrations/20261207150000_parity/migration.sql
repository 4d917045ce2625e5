-- Skills of agents (agent files' `skills`)
CREATE TABLE "Skill" (
    "agentId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "files" JSONB,
    "sourceUrl" TEXT,
    "extra" JSONB,
    "position" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Skill_pkey" PRIMARY KEY ("agentId","name")
);

-- AddForeignKey
ALTER TABLE "Skill" ADD CONSTRAINT "Skill_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "Agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Sleeptime state of a group
ALTER TABLE "Group" ADD COLUMN "turnsCounter" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "Group" ADD COLUMN "lastProcessedMessageId" TEXT;

-- Idempotent sends
ALTER TABLE "Run" ADD COLUMN "idempotencyKey" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Run_agentId_idempotencyKey_key" ON "Run"("agentId", "idempotencyKey");
