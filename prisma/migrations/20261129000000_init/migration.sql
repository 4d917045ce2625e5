-- CreateEnum
CREATE TYPE "RunStatus" AS ENUM ('created', 'running', 'completed', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "StepStatus" AS ENUM ('pending', 'success', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "FileProcessingStatus" AS ENUM ('pending', 'parsing', 'embedding', 'completed', 'error');

-- CreateEnum
CREATE TYPE "MessageRole" AS ENUM ('system', 'user', 'assistant', 'tool', 'approval', 'summary');

-- CreateTable
CREATE TABLE "Organization" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Organization_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMPTZ(3),
    "revokedAt" TIMESTAMPTZ(3),

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Agent" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "system" TEXT NOT NULL DEFAULT '',
    "agentType" TEXT NOT NULL DEFAULT 'letta_v1_agent',
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "metadata" JSONB,
    "model" TEXT,
    "llmConfig" JSONB,
    "modelSettings" JSONB,
    "embedding" TEXT,
    "embeddingConfig" JSONB,
    "compactionSettings" JSONB,
    "responseFormat" JSONB,
    "toolRules" JSONB,
    "secrets" JSONB,
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "messageIds" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "messageBufferAutoclear" BOOLEAN NOT NULL DEFAULT false,
    "maxFilesOpen" INTEGER,
    "perFileViewWindowCharLimit" INTEGER,
    "lastRunCompletion" TIMESTAMPTZ(3),
    "lastRunDurationMs" INTEGER,
    "lastStopReason" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Agent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Block" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "value" TEXT NOT NULL DEFAULT '',
    "limit" INTEGER NOT NULL DEFAULT 100000,
    "description" TEXT,
    "readOnly" BOOLEAN NOT NULL DEFAULT false,
    "isTemplate" BOOLEAN NOT NULL DEFAULT false,
    "templateName" TEXT,
    "hidden" BOOLEAN NOT NULL DEFAULT false,
    "metadata" JSONB,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Block_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BlockAgent" (
    "agentId" TEXT NOT NULL,
    "blockId" TEXT NOT NULL,
    "blockLabel" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BlockAgent_pkey" PRIMARY KEY ("agentId","blockId")
);

-- CreateTable
CREATE TABLE "Tool" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "toolType" TEXT NOT NULL DEFAULT 'custom',
    "sourceType" TEXT,
    "sourceCode" TEXT,
    "jsonSchema" JSONB NOT NULL,
    "argsJsonSchema" JSONB,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "returnCharLimit" INTEGER NOT NULL DEFAULT 50000,
    "pipRequirements" JSONB,
    "npmRequirements" JSONB,
    "defaultRequiresApproval" BOOLEAN NOT NULL DEFAULT false,
    "enableParallelExecution" BOOLEAN NOT NULL DEFAULT false,
    "metadata" JSONB,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Tool_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ToolAgent" (
    "agentId" TEXT NOT NULL,
    "toolId" TEXT NOT NULL,
    "requiresApproval" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ToolAgent_pkey" PRIMARY KEY ("agentId","toolId")
);

-- CreateTable
CREATE TABLE "Folder" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "instructions" TEXT,
    "metadata" JSONB,
    "embedding" TEXT,
    "embeddingConfig" JSONB,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Folder_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "FolderAgent" (
    "agentId" TEXT NOT NULL,
    "folderId" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FolderAgent_pkey" PRIMARY KEY ("agentId","folderId")
);

-- CreateTable
CREATE TABLE "File" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "folderId" TEXT NOT NULL,
    "fileName" TEXT NOT NULL,
    "originalFileName" TEXT NOT NULL,
    "filePath" TEXT,
    "fileType" TEXT,
    "fileSize" INTEGER,
    "fileCreationDate" TIMESTAMPTZ(3),
    "fileLastModifiedDate" TIMESTAMPTZ(3),
    "processingStatus" "FileProcessingStatus" NOT NULL DEFAULT 'pending',
    "errorMessage" TEXT,
    "totalChunks" INTEGER,
    "chunksEmbedded" INTEGER,
    "content" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "File_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "FileAgent" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "fileId" TEXT NOT NULL,
    "folderId" TEXT NOT NULL,
    "fileName" TEXT NOT NULL,
    "isOpen" BOOLEAN NOT NULL DEFAULT true,
    "visibleContent" TEXT,
    "lastAccessedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startLine" INTEGER,
    "endLine" INTEGER,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "FileAgent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Passage" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "agentId" TEXT,
    "fileId" TEXT,
    "folderId" TEXT,
    "fileName" TEXT,
    "text" TEXT NOT NULL,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "metadata" JSONB,
    "embedding" REAL[],
    "embeddingDim" INTEGER,
    "embeddingModel" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Passage_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Message" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "sequenceId" BIGSERIAL NOT NULL,
    "role" "MessageRole" NOT NULL,
    "content" JSONB,
    "name" TEXT,
    "toolCalls" JSONB,
    "toolCallId" TEXT,
    "toolReturns" JSONB,
    "model" TEXT,
    "stepId" TEXT,
    "runId" TEXT,
    "otid" TEXT,
    "senderId" TEXT,
    "groupId" TEXT,
    "batchItemId" TEXT,
    "isErr" BOOLEAN NOT NULL DEFAULT false,
    "approvalRequestId" TEXT,
    "approve" BOOLEAN,
    "denialReason" TEXT,
    "approvals" JSONB,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Message_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Run" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "status" "RunStatus" NOT NULL DEFAULT 'created',
    "stopReason" TEXT,
    "background" BOOLEAN NOT NULL DEFAULT false,
    "requestConfig" JSONB,
    "metadata" JSONB,
    "usage" JSONB,
    "callbackUrl" TEXT,
    "ttftNs" BIGINT,
    "totalDurationNs" BIGINT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMPTZ(3),
    "completedAt" TIMESTAMPTZ(3),
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Step" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "providerName" TEXT,
    "model" TEXT,
    "modelEndpoint" TEXT,
    "contextWindowLimit" INTEGER,
    "promptTokens" INTEGER NOT NULL DEFAULT 0,
    "completionTokens" INTEGER NOT NULL DEFAULT 0,
    "totalTokens" INTEGER NOT NULL DEFAULT 0,
    "cachedInputTokens" INTEGER,
    "cacheWriteTokens" INTEGER,
    "reasoningTokens" INTEGER,
    "stopReason" TEXT,
    "status" "StepStatus" NOT NULL DEFAULT 'pending',
    "errorType" TEXT,
    "errorData" JSONB,
    "llmRequestNs" BIGINT,
    "toolExecutionNs" BIGINT,
    "stepNs" BIGINT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Step_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Organization_name_key" ON "Organization"("name");

-- CreateIndex
CREATE UNIQUE INDEX "ApiKey_hash_key" ON "ApiKey"("hash");

-- CreateIndex
CREATE INDEX "ApiKey_organizationId_idx" ON "ApiKey"("organizationId");

-- CreateIndex
CREATE INDEX "Agent_organizationId_createdAt_id_idx" ON "Agent"("organizationId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "Agent_organizationId_updatedAt_id_idx" ON "Agent"("organizationId", "updatedAt", "id");

-- CreateIndex
CREATE INDEX "Agent_organizationId_lastRunCompletion_id_idx" ON "Agent"("organizationId", "lastRunCompletion", "id");

-- CreateIndex
CREATE INDEX "Agent_organizationId_name_idx" ON "Agent"("organizationId", "name");

-- CreateIndex
CREATE INDEX "Agent_tags_idx" ON "Agent" USING GIN ("tags");

-- CreateIndex
CREATE INDEX "Block_organizationId_createdAt_id_idx" ON "Block"("organizationId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "Block_organizationId_label_idx" ON "Block"("organizationId", "label");

-- CreateIndex
CREATE INDEX "BlockAgent_blockId_idx" ON "BlockAgent"("blockId");

-- CreateIndex
CREATE UNIQUE INDEX "BlockAgent_agentId_blockLabel_key" ON "BlockAgent"("agentId", "blockLabel");

-- CreateIndex
CREATE INDEX "Tool_organizationId_createdAt_id_idx" ON "Tool"("organizationId", "createdAt", "id");

-- CreateIndex
CREATE UNIQUE INDEX "Tool_organizationId_name_key" ON "Tool"("organizationId", "name");

-- CreateIndex
CREATE INDEX "ToolAgent_toolId_idx" ON "ToolAgent"("toolId");

-- CreateIndex
CREATE INDEX "Folder_organizationId_createdAt_id_idx" ON "Folder"("organizationId", "createdAt", "id");

-- CreateIndex
CREATE UNIQUE INDEX "Folder_organizationId_name_key" ON "Folder"("organizationId", "name");

-- CreateIndex
CREATE INDEX "FolderAgent_folderId_idx" ON "FolderAgent"("folderId");

-- CreateIndex
CREATE INDEX "File_folderId_createdAt_id_idx" ON "File"("folderId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "File_organizationId_processingStatus_idx" ON "File"("organizationId", "processingStatus");

-- CreateIndex
CREATE UNIQUE INDEX "File_folderId_fileName_key" ON "File"("folderId", "fileName");

-- CreateIndex
CREATE INDEX "FileAgent_agentId_isOpen_lastAccessedAt_idx" ON "FileAgent"("agentId", "isOpen", "lastAccessedAt");

-- CreateIndex
CREATE INDEX "FileAgent_fileId_idx" ON "FileAgent"("fileId");

-- CreateIndex
CREATE INDEX "FileAgent_folderId_idx" ON "FileAgent"("folderId");

-- CreateIndex
CREATE UNIQUE INDEX "FileAgent_agentId_fileId_key" ON "FileAgent"("agentId", "fileId");

-- CreateIndex
CREATE UNIQUE INDEX "FileAgent_agentId_fileName_key" ON "FileAgent"("agentId", "fileName");

-- CreateIndex
CREATE INDEX "Passage_agentId_createdAt_id_idx" ON "Passage"("agentId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "Passage_fileId_idx" ON "Passage"("fileId");

-- CreateIndex
CREATE INDEX "Passage_folderId_idx" ON "Passage"("folderId");

-- CreateIndex
CREATE INDEX "Passage_tags_idx" ON "Passage" USING GIN ("tags");

-- CreateIndex
CREATE UNIQUE INDEX "Message_sequenceId_key" ON "Message"("sequenceId");

-- CreateIndex
CREATE INDEX "Message_agentId_sequenceId_idx" ON "Message"("agentId", "sequenceId");

-- CreateIndex
CREATE INDEX "Message_runId_sequenceId_idx" ON "Message"("runId", "sequenceId");

-- CreateIndex
CREATE INDEX "Message_stepId_idx" ON "Message"("stepId");

-- CreateIndex
CREATE INDEX "Message_organizationId_createdAt_idx" ON "Message"("organizationId", "createdAt");

-- CreateIndex
CREATE INDEX "Run_organizationId_createdAt_id_idx" ON "Run"("organizationId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "Run_agentId_createdAt_id_idx" ON "Run"("agentId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "Run_agentId_status_idx" ON "Run"("agentId", "status");

-- CreateIndex
CREATE INDEX "Run_status_idx" ON "Run"("status");

-- CreateIndex
CREATE INDEX "Step_runId_createdAt_idx" ON "Step"("runId", "createdAt");

-- CreateIndex
CREATE INDEX "Step_agentId_createdAt_idx" ON "Step"("agentId", "createdAt");

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Agent" ADD CONSTRAINT "Agent_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Block" ADD CONSTRAINT "Block_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BlockAgent" ADD CONSTRAINT "BlockAgent_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "Agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BlockAgent" ADD CONSTRAINT "BlockAgent_blockId_fkey" FOREIGN KEY ("blockId") REFERENCES "Block"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Tool" ADD CONSTRAINT "Tool_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ToolAgent" ADD CONSTRAINT "ToolAgent_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "Agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ToolAgent" ADD CONSTRAINT "ToolAgent_toolId_fkey" FOREIGN KEY ("toolId") REFERENCES "Tool"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Folder" ADD CONSTRAINT "Folder_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FolderAgent" ADD CONSTRAINT "FolderAgent_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "Agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FolderAgent" ADD CONSTRAINT "FolderAgent_folderId_fkey" FOREIGN KEY ("folderId") REFERENCES "Folder"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "File" ADD CONSTRAINT "File_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "File" ADD CONSTRAINT "File_folderId_fkey" FOREIGN KEY ("folderId") REFERENCES "Folder"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FileAgent" ADD CONSTRAINT "FileAgent_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FileAgent" ADD CONSTRAINT "FileAgent_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "Agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FileAgent" ADD CONSTRAINT "FileAgent_fileId_fkey" FOREIGN KEY ("fileId") REFERENCES "File"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FileAgent" ADD CONSTRAINT "FileAgent_folderId_fkey" FOREIGN KEY ("folderId") REFERENCES "Folder"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Passage" ADD CONSTRAINT "Passage_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Passage" ADD CONSTRAINT "Passage_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "Agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Passage" ADD CONSTRAINT "Passage_fileId_fkey" FOREIGN KEY ("fileId") REFERENCES "File"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Passage" ADD CONSTRAINT "Passage_folderId_fkey" FOREIGN KEY ("folderId") REFERENCES "Folder"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Message" ADD CONSTRAINT "Message_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Message" ADD CONSTRAINT "Message_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "Agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Message" ADD CONSTRAINT "Message_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Message" ADD CONSTRAINT "Message_stepId_fkey" FOREIGN KEY ("stepId") REFERENCES "Step"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "Agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Step" ADD CONSTRAINT "Step_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Step" ADD CONSTRAINT "Step_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Step" ADD CONSTRAINT "Step_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "Agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;
